using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mpc.Browser.Tests;

/// <summary>
/// The mpc-server program (src/Mpc.Server.Host, built with this project) as a child process on loopback, with its own
/// data directory and gRPC-Web on for one origin (the browser test page's), started on first use and killed at the end.
/// </summary>
public sealed class SigningServer : IAsyncDisposable
{
    private const string ListeningPrefix = "mpc-server listening on ";
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("mpc-browser-server-").FullName;
    private readonly StringBuilder _stderr = new();
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private Process? _process;
    private int _webPort;
    private string _origin = "";
    private string? _exampleDirectory;

    /// <summary>Where the CLI calls (plain gRPC over HTTP/2, the first address the server reports).</summary>
    public Uri GrpcAddress { get; private set; } = null!;

    /// <summary>Where browsers call (the web port).</summary>
    public Uri WebAddress { get; private set; } = null!;

    /// <summary>
    /// Starts the server once, allowing <paramref name="origin"/> (null: the web port's own origin), and serving the
    /// example site from <paramref name="exampleDirectory"/> when given; later calls return at once.
    /// </summary>
    public async Task StartAsync(string? origin, string? exampleDirectory = null)
    {
        await _startLock.WaitAsync();
        try
        {
            if (_process is not null)
            {
                return;
            }
            _webPort = FreeTcpPort();
            _origin = origin ?? $"http://127.0.0.1:{_webPort}";
            _exampleDirectory = exampleDirectory;
            await StartProcessAsync();
        }
        finally
        {
            _startLock.Release();
        }
    }

    /// <summary>
    /// Kills the server (SIGKILL: whatever it held only in memory is gone, as in a crash or a redeploy) and starts it
    /// again on the same data directory and web port, so a page keeps calling the same address.
    /// </summary>
    public async Task RestartAsync()
    {
        await _startLock.WaitAsync();
        try
        {
            Process process = _process ?? throw new InvalidOperationException("the server was never started");
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            _process = null;
            await StartProcessAsync();
        }
        finally
        {
            _startLock.Release();
        }
    }

    private async Task StartProcessAsync()
    {
        int webPort = _webPort;
        ProcessStartInfo start = Describe(["--urls", "http://127.0.0.1:0", "--data", _dataDirectory]);
        start.Environment["Mpc__Web__Port"] = webPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Mpc__Web__AllowedOrigins"] = _origin;
        // The test servers' pool size, not the default 16: filling it takes cores from the pages, and each browser
        // collection runs a server of its own.
        start.Environment[TestServerPool.Variable] = TestServerPool.Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (_exampleDirectory is not null)
        {
            start.Environment["Mpc__Web__ServeExample"] = "true";
            start.Environment["Mpc__Web__ExampleDirectory"] = _exampleDirectory;
        }
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Process process = Process.Start(start)!;
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith(ListeningPrefix, StringComparison.Ordinal) == true)
            {
                string webPortText = $":{webPort}";
                GrpcAddress = new Uri(e.Data[ListeningPrefix.Length..].Split([',', ' '], StringSplitOptions.RemoveEmptyEntries)
                    .First(url => url.StartsWith("http", StringComparison.Ordinal) && !url.TrimEnd('/').EndsWith(webPortText, StringComparison.Ordinal)));
                listening.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"mpc-server exited: {ErrorOutput()}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(120));
        WebAddress = new Uri($"http://127.0.0.1:{webPort}");
    }

    /// <summary>A development token for <paramref name="user"/> (`mpc-server token`).</summary>
    public async Task<string> TokenAsync(string user)
    {
        ProcessStartInfo start = Describe(["token", "--data", _dataDirectory, "--user", user, "--lifetime", "01:00:00"]);
        using Process token = Process.Start(start)!;
        Task<string> stdout = token.StandardOutput.ReadToEndAsync();
        Task<string> stderr = token.StandardError.ReadToEndAsync();
        await token.WaitForExitAsync();
        return token.ExitCode == 0 ? (await stdout).Trim() : throw new InvalidOperationException($"mpc-server token failed: {await stderr}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>mpc-server.dll of the same configuration as this test assembly (the project reference builds it).</summary>
    private static string ServerDll()
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        string path = Repository.PathOf("src", "Mpc.Server.Host", "bin", configuration, "net10.0", "mpc-server.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"mpc-server not built: {path}");
    }

    private static ProcessStartInfo Describe(string[] arguments) => new("dotnet", [ServerDll(), .. arguments])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private string ErrorOutput()
    {
        lock (_stderr)
        {
            return _stderr.ToString().Trim();
        }
    }
}
