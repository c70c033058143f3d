using System.Diagnostics;

namespace Mpc.Browser.Tests;

/// <summary>The mpc command line (src/Mpc.Cli, built with this project) run against a <see cref="SigningServer"/>, in its own temp directory.</summary>
public sealed class MpcCli : IDisposable
{
    public MpcCli() => Directory = System.IO.Directory.CreateTempSubdirectory("mpc-browser-cli-").FullName;

    /// <summary>Where the CLI's files (token, key files, backups, documents) go.</summary>
    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Runs <c>mpc</c> with <paramref name="arguments"/>; stdout, or an exception with stderr when it fails.</summary>
    public async Task<string> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        (await RunWithStderrAsync(environment, arguments)).Stdout;

    /// <summary>As <see cref="RunAsync"/>, with stderr too (where mpc shows what is for the user's eyes only, like a confirmation code).</summary>
    public async Task<(string Stdout, string Stderr)> RunWithStderrAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        string dll = Repository.PathOf("src", "Mpc.Cli", "bin", configuration, "net10.0", "mpc.dll");
        var start = new ProcessStartInfo("dotnet", [dll, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        foreach ((string name, string value) in environment)
        {
            start.Environment[name] = value;
        }
        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode == 0
            ? (await stdout, await stderr)
            : throw new InvalidOperationException($"mpc {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stderr}");
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
