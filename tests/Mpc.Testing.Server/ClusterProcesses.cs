using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Mpc.Testing;

/// <summary>
/// A redis-server process on a loopback port with append-only persistence (fsync on every write), and
/// with AUTH when given a password.
/// </summary>
public sealed class RedisProcess : IDisposable
{
    private readonly string? _password;
    private Process? _process;

    public RedisProcess(string directory, string? password = null)
    {
        Directory = directory;
        Port = ClusterPorts.Free();
        _password = password;
    }

    public string Directory { get; }

    public int Port { get; }

    public string ConnectionString => _password is null ? $"127.0.0.1:{Port}" : $"127.0.0.1:{Port},password={_password}";

    public async Task StartAsync()
    {
        if (!File.Exists("/usr/bin/redis-server"))
        {
            throw new InvalidOperationException("redis-server is not installed; .ci/run installs it (apt-get install -y redis-server).");
        }
        _process = Process.Start(new ProcessStartInfo("/usr/bin/redis-server",
            ["--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", Directory, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
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
        var start = new ProcessStartInfo("redis-cli", ["-p", Port.ToString(), .. args])
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

/// <summary>One `mpc-server` process in Redis cluster mode.</summary>
public sealed class SiloProcess(string name, string dataDirectory, string masterKeyDirectory, string redis, string clusterId,
    IReadOnlyDictionary<string, string>? environment = null) : IDisposable
{
    private Process? _process;

    public string Name { get; } = name;

    public int GrpcPort { get; } = ClusterPorts.Free();

    public int SiloPort { get; } = ClusterPorts.Free();

    public int GatewayPort { get; } = ClusterPorts.Free();

    public Uri Url => new($"http://127.0.0.1:{GrpcPort}");

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("dotnet", [ProcessRunner.ServerDll,
            "--urls", Url.ToString().TrimEnd('/'), "--data", dataDirectory, "--master-key-dir", masterKeyDirectory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Mpc__Cluster__Mode"] = "redis";
        start.Environment["Mpc__Cluster__RedisConnectionString"] = redis;
        start.Environment["Mpc__Cluster__ClusterId"] = clusterId;
        start.Environment["Mpc__Cluster__AdvertisedIPAddress"] = "127.0.0.1";
        start.Environment["Mpc__Cluster__SiloPort"] = SiloPort.ToString();
        start.Environment["Mpc__Cluster__GatewayPort"] = GatewayPort.ToString();
        foreach ((string variable, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[variable] = value;
        }
        _process = Process.Start(start)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        DateTime deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited during start-up with code {_process.ExitCode}");
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

public static class ClusterPorts
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
