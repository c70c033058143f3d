using System.Diagnostics;
using System.Text;

namespace Mpc.Cli;

/// <summary>
/// The `mpc-server` program as a child process on a free loopback port with its own data directory: what `mpc demo`
/// and `mpc-load --embedded` run. A separate program, so `mpc` carries no server code (no Orleans, no ASP.NET), and
/// the server's CPU time is its own. Stopping it (dispose, also on Ctrl+C) kills the child and waits for it.
/// Found through <see cref="PathVariable"/> or beside the running program; this file is also compiled into
/// bench/Mpc.LoadTest, so both tools find and start the server the same way. If this process ends without disposing
/// (SIGTERM, an unhandled exception), its exit handler kills the child; only a SIGKILL of this process leaves it running.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>Where the server program is when it is not beside this one: mpc-server.dll or an mpc-server executable.</summary>
    public const string PathVariable = "MPC_SERVER_PATH";

    /// <summary>The line the server prints once it listens (src/Mpc.Server.Host/ServerCommand.cs).</summary>
    private const string ListeningPrefix = "mpc-server listening on ";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly string _program;
    private readonly string[] _prefixArguments;
    private readonly StringBuilder _stderr = new();

    private ServerProcess(Process process, string program, string[] prefixArguments, string dataDirectory)
    {
        _process = process;
        _program = program;
        _prefixArguments = prefixArguments;
        DataDirectory = dataDirectory;
        AppDomain.CurrentDomain.ProcessExit += KillOnExit;
    }

    private const string PrimePoolSizeVariable = "Mpc__KeyGen__PrimePoolSize";

    public Uri Address { get; private set; } = null!;

    public string DataDirectory { get; }

    public int ProcessId => _process.Id;

    /// <summary>
    /// Starts <paramref name="server"/> (<see cref="Locate"/>) as `mpc-server --urls http://127.0.0.1:0 --data
    /// <paramref name="dataDirectory"/>` (with <paramref name="environment"/> added to its environment) and waits until it listens. Throws <see cref="ServerProcessException"/>
    /// (one line) if it exits during start-up or does not listen in time.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(
        ServerProgram server, string dataDirectory, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        (string program, string[] prefix) = server;
        var start = Describe(program, [.. prefix, "--urls", "http://127.0.0.1:0", "--data", dataDirectory]);
        // A child server lives for one demo or one load run: the full default key pool (16 prime searches, seconds of
        // CPU at start) would share the cores with the very run it serves. Unless the caller sets the pool, 4 keys.
        if (!start.Environment.ContainsKey(PrimePoolSizeVariable))
        {
            start.Environment[PrimePoolSizeVariable] = "4";
        }
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        Process process = Process.Start(start) ?? throw new ServerProcessException($"could not start {program}");
        var child = new ServerProcess(process, program, prefix, dataDirectory);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith(ListeningPrefix, StringComparison.Ordinal))
            {
                listening.TrySetResult(new Uri(line[ListeningPrefix.Length..].Split([',', ' '], 2)[0]));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (child._stderr)
                {
                    child._stderr.AppendLine(line);
                }
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(
            new ServerProcessException($"mpc-server exited during start-up (exit code {process.ExitCode}): {child.ErrorOutput()}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            child.Address = await listening.Task.WaitAsync(StartTimeout, cancellationToken);
            return child;
        }
        catch (TimeoutException)
        {
            await child.DisposeAsync();
            throw new ServerProcessException($"mpc-server did not listen within {StartTimeout.TotalSeconds:F0} s: {child.ErrorOutput()}");
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }
    }

    /// <summary>A development token for <paramref name="user"/>, from `mpc-server token` over this server's data directory.</summary>
    public async Task<string> MintTokenAsync(string user, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var start = Describe(_program, [.. _prefixArguments, "token", "--data", DataDirectory, "--user", user,
            "--lifetime", lifetime.ToString("c", System.Globalization.CultureInfo.InvariantCulture)]);
        using Process token = Process.Start(start) ?? throw new ServerProcessException($"could not start {_program}");
        Task<string> stdout = token.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> stderr = token.StandardError.ReadToEndAsync(cancellationToken);
        await token.WaitForExitAsync(cancellationToken);
        return token.ExitCode == 0
            ? (await stdout).Trim()
            : throw new ServerProcessException($"mpc-server token failed: {(await stderr).Trim()}");
    }

    /// <summary>The child's CPU time so far (user + system); null once it has exited.</summary>
    public TimeSpan? CpuTime()
    {
        try
        {
            _process.Refresh();
            return _process.HasExited ? null : _process.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// The program to run and the arguments before the server's own: MPC_SERVER_PATH if set, else mpc-server.dll (run
    /// by this dotnet host) or an mpc-server executable beside the running program. Callers locate it before they
    /// print anything, so a missing server is one line.
    /// </summary>
    public static ServerProgram Locate()
    {
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } configured)
        {
            return File.Exists(configured)
                ? ForFile(Path.GetFullPath(configured))
                : throw new ServerProcessException($"{PathVariable} names '{configured}', which does not exist: point it at mpc-server.dll or the mpc-server executable");
        }
        string beside = AppContext.BaseDirectory;
        foreach (string name in new[] { "mpc-server.dll", OperatingSystem.IsWindows() ? "mpc-server.exe" : "mpc-server" })
        {
            string candidate = Path.Combine(beside, name);
            if (File.Exists(candidate))
            {
                return ForFile(candidate);
            }
        }
        throw new ServerProcessException(
            $"mpc-server not found beside this program ({beside}): build src/Mpc.Server.Host, or set {PathVariable} to mpc-server.dll or the mpc-server executable");
    }

    private static ServerProgram ForFile(string path) =>
        path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? new(DotnetHost(), [path]) : new(path, []);

    private static string DotnetHost()
    {
        string? current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    private static ProcessStartInfo Describe(string program, string[] arguments) => new(program, arguments)
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };

    private string ErrorOutput()
    {
        lock (_stderr)
        {
            string text = string.Join(' ', _stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            return text.Length > 0 ? text : "(nothing on stderr)";
        }
    }

    private void KillOnExit(object? sender, EventArgs e)
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= KillOnExit;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}

/// <summary>How to run mpc-server: the program, and the arguments before the server's own (the dll, for `dotnet`).</summary>
internal sealed record ServerProgram(string Program, string[] Prefix);

/// <summary>The server program is missing or did not start; one line for the user.</summary>
internal sealed class ServerProcessException(string message) : Exception(message);
