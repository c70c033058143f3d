using System.Diagnostics;

namespace Mpc.Testing;

/// <summary>The outcome of a finished process.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The error line of a failed `mpc` command (all of stderr, which must be one line).</summary>
    public string ErrorLine => Stderr.Trim();
}

/// <summary>Runs `mpc` or `mpc-server` (the built programs next to the tests) or any other program, with extra environment variables.</summary>
public static class ProcessRunner
{
    public static string MpcDll => Path.Combine(AppContext.BaseDirectory, "mpc.dll");

    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "mpc-server.dll");

    /// <summary>The first line `mpc-server` prints once it listens, followed by its addresses.</summary>
    public const string ListeningLine = "mpc-server listening on ";

    /// <summary>
    /// A natively compiled `mpc` to run instead of `dotnet mpc.dll` (`./build.sh native`): .ci/run runs the CLI tests a
    /// second time with it, so the program users get from that build passes the same tests.
    /// </summary>
    public const string NativeCliVariable = "MPC_TEST_NATIVE_CLI";

    public static ProcessResult Mpc(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        Environment.GetEnvironmentVariable(NativeCliVariable) is { Length: > 0 } native
            ? Run(native, args, environment)
            : Run("dotnet", [MpcDll, .. args], environment);

    /// <summary>
    /// Starts `mpc` (as <see cref="Mpc"/> runs it) and returns at once, for a test that acts while the command is still
    /// running: its stdin is closed, its stdout and stderr are the caller's to read.
    /// </summary>
    public static Process StartMpc(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        ProcessStartInfo start = Environment.GetEnvironmentVariable(NativeCliVariable) is { Length: > 0 } native
            ? StartInfo(native, args, environment)
            : StartInfo("dotnet", [MpcDll, .. args], environment);
        Process process = Process.Start(start)!;
        process.StandardInput.Close();
        return process;
    }

    public static ProcessResult Server(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        Run("dotnet", [ServerDll, .. args], environment);

    /// <summary>The openssl CLI: the independent verifier of CMS and DER output.</summary>
    public static ProcessResult OpenSsl(params string[] args) => Run("openssl", args);

    public static ProcessResult Run(string program, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using Process process = Process.Start(StartInfo(program, args, environment))!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(180_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish");
        }
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static ProcessStartInfo StartInfo(string program, string[] args, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        return start;
    }
}
