using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Mpc.Testing;

/// <summary>
/// A redis-server process on a loopback port with append-only persistence (fsync on every write unless
/// <c>appendFsync</c> names another policy), and with AUTH when given a password. With <c>tls</c>, the port speaks TLS
/// only (no plain port) with that certificate, and with <c>requireClientCertificate</c> Redis's tls-auth-clients.
/// </summary>
public sealed class RedisProcess : IDisposable
{
    private readonly string? _password;
    private readonly string _appendFsync;
    private readonly RedisTlsFiles? _tls;
    private readonly bool _requireClientCertificate;
    private Process? _process;

    public RedisProcess(string directory, string? password = null, string appendFsync = "always", RedisTlsFiles? tls = null, bool requireClientCertificate = false)
    {
        Directory = directory;
        Port = ClusterPorts.Free();
        _password = password;
        _appendFsync = appendFsync;
        _tls = tls;
        _requireClientCertificate = requireClientCertificate;
    }

    public string Directory { get; }

    public int Port { get; }

    public string ConnectionString =>
        $"127.0.0.1:{Port}" + (_password is null ? "" : $",password={_password}") + (_tls is null ? "" : ",ssl=true");

    public async Task StartAsync()
    {
        if (!File.Exists("/usr/bin/redis-server"))
        {
            throw new InvalidOperationException("redis-server is not installed; .ci/run installs it (apt-get install -y redis-server).");
        }
        string[] listen = _tls is null
            ? ["--port", Port.ToString()]
            : ["--port", "0", "--tls-port", Port.ToString(), "--tls-cert-file", _tls.CertificatePath, "--tls-key-file", _tls.KeyPath,
               "--tls-ca-cert-file", _tls.CaPath, "--tls-auth-clients", _requireClientCertificate ? "yes" : "no"];
        _process = Process.Start(new ProcessStartInfo("/usr/bin/redis-server",
            [.. listen, "--bind", "127.0.0.1", "--dir", Directory, "--appendonly", "yes", "--appendfsync", _appendFsync, "--save", "", "--daemonize", "no",
             .. (_password is null ? Array.Empty<string>() : ["--requirepass", _password])])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (int i = 0; i < 100; i++)
        {
            if (Cli("ping").Trim() == "PONG")
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("redis-server did not answer PING");
    }

    /// <summary>SHUTDOWN: Redis flushes the append-only file and exits.</summary>
    public async Task StopAsync()
    {
        Cli("shutdown");
        if (_process is not null)
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            _process.Dispose();
            _process = null;
        }
    }

    /// <summary>redis-cli, authenticated when the server has a password.</summary>
    public string Cli(params string[] args) => Cli(authenticate: true, args);

    public string Cli(bool authenticate, params string[] args)
    {
        // Over TLS, redis-cli presents Redis's own certificate (serverAuth and clientAuth) when Redis requires one.
        string[] tls = _tls is null
            ? []
            : ["--tls", "--cacert", _tls.CaPath, .. (_requireClientCertificate ? new[] { "--cert", _tls.CertificatePath, "--key", _tls.KeyPath } : [])];
        var start = new ProcessStartInfo("redis-cli", ["-p", Port.ToString(), .. tls, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Remove("REDISCLI_AUTH");
        if (authenticate && _password is not null)
        {
            start.Environment["REDISCLI_AUTH"] = _password; // redis-cli's own variable: no password on the command line
        }
        using Process cli = Process.Start(start)!;
        string output = cli.StandardOutput.ReadToEnd();
        cli.WaitForExit();
        return output;
    }

    /// <summary>
    /// The Orleans membership-table value (JSON, spaces removed) of the silo on loopback <paramref name="siloPort"/>, or
    /// "" when none names it: its "Status" is 3 while Active, 6 once declared Dead.
    /// </summary>
    public string MembershipEntry(int siloPort) =>
        Cli("--scan", "--pattern", "*members*").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(key => Cli("hgetall", key).Split('\n'))
            .FirstOrDefault(line => line.Contains($"127.0.0.1:{siloPort}", StringComparison.Ordinal) && line.Contains("Status", StringComparison.Ordinal))
            ?.Replace(" ", "", StringComparison.Ordinal) ?? "";

    /// <summary>Whether the membership table lists the silo on <paramref name="siloPort"/> as Dead (6).</summary>
    public bool IsDeclaredDead(int siloPort) => MembershipEntry(siloPort).Contains("\"Status\":6", StringComparison.Ordinal);

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process?.Dispose();
    }
}

/// <summary>
/// One `mpc-server` process in Redis cluster mode. <paramref name="siloTraffic"/> is the silo port's set-up, which Redis
/// mode requires: <see cref="SiloTlsFiles.Environment"/> (mutual TLS, certificates of a <see cref="TestClusterCa"/>) or
/// <see cref="PlainSiloTraffic.Environment"/>.
/// </summary>
public sealed class SiloProcess(string name, string dataDirectory, string masterKeyDirectory, string redis, string clusterId,
    IReadOnlyDictionary<string, string> siloTraffic, IReadOnlyDictionary<string, string>? environment = null) : IDisposable
{
    private readonly ProcessOutputTail _output = new(kept: 100);
    private Process? _process;

    public string Name { get; } = name;

    public int GrpcPort { get; } = ClusterPorts.Free();

    public int SiloPort { get; } = ClusterPorts.Free();

    public Uri Url => new($"http://127.0.0.1:{GrpcPort}");

    /// <summary>
    /// Starts the silo and waits until it reports SERVING. A silo that gives up joining because the silos the membership
    /// table lists as active did not answer in time (exit code 69: after a full restart, its peer was slower to come
    /// back than the join timeout) is started once more, as an orchestrator's restart policy would.
    /// </summary>
    public async Task StartAsync()
    {
        try
        {
            await StartOnceAsync();
        }
        catch (SiloExitedException e) when (e.ExitCode == 69)
        {
            await StartOnceAsync();
        }
    }

    /// <summary>Starts the silo and waits until it reports SERVING, without <see cref="StartAsync"/>'s second start on exit code 69.</summary>
    public async Task StartOnceAsync()
    {
        var start = new ProcessStartInfo("dotnet", [ProcessRunner.ServerDll,
            "--urls", Url.ToString().TrimEnd('/'), "--data", dataDirectory, "--master-key-dir", masterKeyDirectory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment[TestServerPool.Variable] = TestServerPool.Size.ToString();
        start.Environment["Mpc__Cluster__Mode"] = "redis";
        start.Environment["Mpc__Cluster__RedisConnectionString"] = redis;
        start.Environment["Mpc__Cluster__ClusterId"] = clusterId;
        start.Environment["Mpc__Cluster__AdvertisedIPAddress"] = "127.0.0.1";
        start.Environment["Mpc__Cluster__SiloPort"] = SiloPort.ToString();
        foreach ((string variable, string value) in siloTraffic.Concat(environment ?? new Dictionary<string, string>()))
        {
            start.Environment[variable] = value;
        }
        _output.Clear();
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, line) => _output.Add(line.Data);
        _process.ErrorDataReceived += (_, line) => _output.Add(line.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        DateTime deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // drains the redirected output
                int exitCode = _process.ExitCode;
                _process.Dispose();
                _process = null;
                throw new SiloExitedException(Name, exitCode, _output.ToString());
            }
            if (await IsServingAsync())
            {
                return;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"{Name} did not report SERVING within 90 s");
    }

    public async Task<bool> IsServingAsync()
    {
        try
        {
            using var channel = GrpcChannel.ForAddress(Url);
            HealthCheckResponse response = await new Health.HealthClient(channel)
                .CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
            return response.Status == HealthCheckResponse.Types.ServingStatus.Serving;
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>SIGSTOP: the silo freezes, as in a long pause of its VM, answering no probe and reading nothing, until <see cref="Resume"/>.</summary>
    public void Pause() => Signal("-STOP");

    /// <summary>SIGCONT: a paused silo runs on from where it was.</summary>
    public void Resume() => Signal("-CONT");

    /// <summary>Waits for a running silo to end by itself: its exit code and what it printed last.</summary>
    public async Task<(int ExitCode, string Output)> WaitForExitAsync(TimeSpan timeout)
    {
        Process process = _process ?? throw new InvalidOperationException($"{Name} is not running");
        await process.WaitForExitAsync().WaitAsync(timeout);
        process.WaitForExit(); // drains the redirected output
        int exitCode = process.ExitCode;
        process.Dispose();
        _process = null;
        return (exitCode, _output.ToString());
    }

    private void Signal(string signal)
    {
        Process process = _process ?? throw new InvalidOperationException($"{Name} is not running");
        using Process kill = Process.Start("kill", [signal, process.Id.ToString()]);
        kill.WaitForExit();
    }

    /// <summary>SIGKILL: no graceful shutdown, the silo simply vanishes.</summary>
    public void Kill()
    {
        _process?.Kill(entireProcessTree: true);
        _process?.WaitForExit();
        _process?.Dispose();
        _process = null;
    }

    public void Dispose() => Kill();
}

/// <summary>A silo process that ended before it reported SERVING, with what it printed last.</summary>
public sealed class SiloExitedException(string name, int exitCode, string output)
    : InvalidOperationException($"{name} exited during start-up with code {exitCode}; its last output:\n{output}")
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// Loopback ports for servers the tests start, stop and start again on the same endpoint. They come from below the
/// kernel's ephemeral range (32768 and up on Linux), because a port the kernel handed out once as ephemeral can be
/// given to any outgoing connection (a Redis client, an HTTP call) while a killed silo is down, and the silo's restart
/// on that port then fails with "address in use" (seen in CI: exit code 6).
/// </summary>
public static class ClusterPorts
{
    private const int First = 20000, End = 32768;

    // Ports already handed out by this test process, so two servers started together never get the same one.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> HandedOut = new();

    public static int Free()
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            int port = Random.Shared.Next(First, End);
            if (!HandedOut.TryAdd(port, 0))
            {
                continue;
            }
            try
            {
                using var listener = new TcpListener(IPAddress.Any, port); // silos listen on every interface
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken by someone else; keep it marked so it is not tried again.
            }
        }
        throw new InvalidOperationException($"no free loopback port between {First} and {End}");
    }
}
