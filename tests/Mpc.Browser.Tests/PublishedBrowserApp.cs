using System.Diagnostics;

namespace Mpc.Browser.Tests;

/// <summary>
/// src/Mpc.Browser published once per test process into a temp directory, with the test hooks
/// (<c>-p:MpcBrowserTestHooks=true</c>: BrowserSigner.ShareScalarHexForTest), for every browser collection's
/// <see cref="BrowserApp"/>. Once, not per collection: a publish takes a minute or more, and two at once would write
/// the same obj directory. The pages only read it; it is deleted when the test process exits.
/// </summary>
internal static class PublishedBrowserApp
{
    private static readonly Lazy<Task<string>> Published = new(PublishAsync);

    /// <summary>The publish directory (its wwwroot is the site), published by the first caller.</summary>
    public static Task<string> DirectoryAsync() => Published.Value;

    private static async Task<string> PublishAsync()
    {
        string directory = Directory.CreateTempSubdirectory("mpc-browser-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteQuietly(directory);
        string project = Repository.PathOf("src", "Mpc.Browser", "Mpc.Browser.csproj");
        var start = new ProcessStartInfo("dotnet", ["publish", project, "-c", "Release", "-o", directory, "--nologo", "-p:MpcBrowserTestHooks=true"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish {project} failed ({process.ExitCode}):\n{await output}\n{await errors}");
        }
        return directory;
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
