using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Mpc.Server;

namespace Mpc.Server.Host.Tests;

/// <summary>A real `mpc-server` process, started once for the tests that need a server already running.</summary>
public sealed class RunningServerFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly StringBuilder _stdout = new();
    private Process? _process;

    public string DataDirectory => _root.File("data");

    public Uri Address { get; private set; } = null!;

    public int ProcessId => _process!.Id;

    /// <summary>Everything the server printed so far.</summary>
    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public async Task InitializeAsync()
    {
        var start = new ProcessStartInfo("dotnet", [ProcessRunner.ServerDll, "--urls", "http://127.0.0.1:0", "--data", DataDirectory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { [TestServerPool.Variable] = TestServerPool.Size.ToString() },
        };
        _process = Process.Start(start)!;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }
            lock (_stdout)
            {
                _stdout.AppendLine(line.Data);
            }
            if (line.Data.StartsWith(ProcessRunner.ListeningLine, StringComparison.Ordinal))
            {
                listening.TrySetResult(new Uri(line.Data[ProcessRunner.ListeningLine.Length..].Split(' ', ',')[0]));
            }
        };
        _process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                listening.TrySetException(new InvalidOperationException($"mpc-server failed to start: {line.Data}"));
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Address = await listening.Task.WaitAsync(TimeSpan.FromMinutes(3));
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        Dispose();
    }

    public void Dispose()
    {
        _process?.Dispose();
        _root.Dispose();
    }
}

/// <summary>
/// `mpc-server` refusing to start: one line on stderr per problem, nothing else printed, a distinct exit code
/// (2: a setting; 6: its port or data directory taken). Real processes, because the point is what an operator sees.
/// </summary>
public sealed class ServerStartupTests(RunningServerFixture running) : IClassFixture<RunningServerFixture>, IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    private string FreshData => Path.Combine(_root.Path, "data-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public void A_second_server_on_the_same_port_is_one_line_naming_the_port()
    {
        ProcessResult result = ProcessRunner.Server(null, "--urls", running.Address.ToString(), "--data", FreshData);

        Assert.Equal(6, result.ExitCode);
        Assert.Equal(
            $"error: port {running.Address.Port} on 127.0.0.1 is in use; choose another with --urls or Mpc__Urls",
            SingleLine(result.Stderr));
        Assert.Equal("", result.Stdout.Trim());
    }

    [Fact]
    public void A_silo_whose_Redis_does_not_answer_is_one_line_and_exit_code_69()
    {
        // A port nothing listens on (below the ephemeral range, checked free): Redis "is down".
        int closed = ClusterPorts.Free();
        ProcessResult result = ProcessRunner.Server(new Dictionary<string, string>
        {
            ["Mpc__Cluster__Mode"] = "redis",
            ["Mpc__Cluster__RedisConnectionString"] = $"127.0.0.1:{closed},password=not-in-the-message",
            ["Mpc__Cluster__ClusterId"] = "unreachable",
            [ClusterOptions.PlainSiloTrafficSetting] = "true",
        }, "--urls", "http://127.0.0.1:0", "--data", FreshData);

        Assert.Equal(69, result.ExitCode);
        Assert.Equal(
            "error: Redis did not answer (UnableToConnect): check that it runs and that Mpc__Cluster__RedisConnectionString names it",
            SingleLine(result.Stderr));
        Assert.DoesNotContain("not-in-the-message", result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silo_on_a_Redis_that_flushes_once_a_second_refuses_to_start_unless_told_to_accept_it()
    {
        // appendfsync everysec: Redis acknowledges a freeze up to a second before it is on disk, so a Redis restart
        // can bring the key back as active. The server names the settings and the override, in one line.
        using var redis = new RedisProcess(Directory.CreateDirectory(Path.Combine(_root.Path, "redis")).FullName, appendFsync: "everysec");
        await redis.StartAsync();
        var cluster = new Dictionary<string, string>
        {
            ["Mpc__Cluster__Mode"] = "redis",
            ["Mpc__Cluster__RedisConnectionString"] = redis.ConnectionString,
            ["Mpc__Cluster__ClusterId"] = "not-durable",
            [ClusterOptions.PlainSiloTrafficSetting] = "true",
        };

        ProcessResult refused = ProcessRunner.Server(cluster, "--urls", "http://127.0.0.1:0", "--data", FreshData);

        Assert.Equal(2, refused.ExitCode);
        Assert.Equal(
            $"error: Redis at 127.0.0.1:{redis.Port} runs with appendonly yes and appendfsync everysec: a write it acknowledged, a freeze " +
            "above all, can be lost when it restarts; run it with appendonly yes and appendfsync always (docs/operations.md), " +
            "or set Mpc__Cluster__AllowNonDurableRedis=true to accept that",
            SingleLine(refused.Stderr));

        using var accepted = new SiloProcess("accepted", FreshData, Path.Combine(_root.Path, "kek"), redis.ConnectionString, "not-durable",
            PlainSiloTraffic.Environment, new Dictionary<string, string> { ["Mpc__Cluster__AllowNonDurableRedis"] = "true" });
        await accepted.StartAsync();
        Assert.True(await accepted.IsServingAsync());
    }

    /// <summary>Redis mode settings whose Redis is never reached: the silo TLS checks come first.</summary>
    private static Dictionary<string, string> RedisMode(params (string Key, string Value)[] more)
    {
        var environment = new Dictionary<string, string>
        {
            ["Mpc__Cluster__Mode"] = "redis",
            ["Mpc__Cluster__RedisConnectionString"] = $"127.0.0.1:{ClusterPorts.Free()}",
            ["Mpc__Cluster__ClusterId"] = "silo-tls",
        };
        foreach ((string key, string value) in more)
        {
            environment[key] = value;
        }
        return environment;
    }

    [Fact]
    public void A_redis_mode_silo_without_silo_tls_or_the_plain_setting_is_one_line_and_exit_code_2()
    {
        ProcessResult result = ProcessRunner.Server(RedisMode(), "--urls", "http://127.0.0.1:0", "--data", FreshData);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            "error: setting Mpc__Cluster__Tls__CertificatePath is not set: expected mutual TLS between silos in redis mode " +
            "(Mpc__Cluster__Tls__CertificatePath, Mpc__Cluster__Tls__KeyPath and Mpc__Cluster__Tls__CaPath; docs/operations.md, TLS), " +
            "or Mpc__Cluster__PlainSiloTraffic=true when the silo port is on a private network only the signer pods reach",
            SingleLine(result.Stderr));
        Assert.Equal("", result.Stdout.Trim());
    }

    [Fact]
    public void Half_the_silo_tls_settings_is_one_line_naming_the_missing_one()
    {
        using var ca = new TestClusterCa(Path.Combine(_root.Path, "tls"));
        SiloTlsFiles files = ca.Issue("silo");
        ProcessResult result = ProcessRunner.Server(
            RedisMode((ClusterTlsOptions.CertificatePathSetting, files.CertificatePath), (ClusterTlsOptions.CaPathSetting, files.CaPath)),
            "--urls", "http://127.0.0.1:0", "--data", FreshData);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            "error: setting Mpc__Cluster__Tls__KeyPath is not set: expected the PEM private key of that certificate, set together with the other two " +
            "of Mpc__Cluster__Tls__CertificatePath, Mpc__Cluster__Tls__KeyPath and Mpc__Cluster__Tls__CaPath",
            SingleLine(result.Stderr));
    }

    [Fact]
    public void An_unreadable_silo_certificate_is_one_line_naming_the_file_and_exit_code_2()
    {
        using var ca = new TestClusterCa(Path.Combine(_root.Path, "tls"));
        SiloTlsFiles files = ca.Issue("silo");
        string missing = Path.Combine(_root.Path, "tls", "gone.crt");
        ProcessResult result = ProcessRunner.Server(
            RedisMode([.. (files with { CertificatePath = missing }).Environment.Select(pair => (pair.Key, pair.Value))]),
            "--urls", "http://127.0.0.1:0", "--data", FreshData);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"error: setting Mpc__Cluster__Tls__CertificatePath='{missing}' cannot be read: ", SingleLine(result.Stderr), StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_server_on_the_same_data_directory_is_one_line_naming_the_directory_and_the_first_server()
    {
        ProcessResult result = ProcessRunner.Server(null, "--urls", "http://127.0.0.1:0", "--data", running.DataDirectory);

        Assert.Equal(6, result.ExitCode);
        string line = SingleLine(result.Stderr);
        Assert.StartsWith($"error: the data directory {running.DataDirectory} is in use by another server (pid {running.ProcessId} on ", line);
        Assert.Equal("", result.Stdout.Trim());
    }

    [Fact]
    public void The_running_server_uses_server_gc_and_orleans_does_not_warn()
    {
        Assert.DoesNotContain("ServerGC", running.Stdout, StringComparison.Ordinal);
        using JsonDocument runtimeConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "mpc-server.runtimeconfig.json")));
        Assert.True(runtimeConfig.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").GetProperty("System.GC.Server").GetBoolean());
    }

    [Fact]
    public void The_server_runtime_config_stops_idle_thread_pool_workers_from_spinning()
    {
        using JsonDocument runtimeConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "mpc-server.runtimeconfig.json")));
        JsonElement properties = runtimeConfig.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }

    [Theory]
    [InlineData(HealthOptions.PortSetting, "7443", "the metrics port, the gRPC-Web port and the silo port, or unset for no probe port")]
    [InlineData(MetricsOptions.PortSetting, "70000", "the gRPC-Web port, the probe port and the silo port, or unset for no scrape endpoint")]
    public void A_port_beside_grpc_that_is_not_its_own_is_one_line_and_exit_code_2_before_the_data_directory(string setting, string port, string others)
    {
        string data = FreshData;
        ProcessResult result = ProcessRunner.Server(new Dictionary<string, string> { [setting] = port }, "--urls", "http://127.0.0.1:7443", "--data", data);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            $"error: setting {setting}='{port}' is not allowed: expected a port from 1 to 65535 that is none of the gRPC ports (of which one must be TCP), {others}",
            SingleLine(result.Stderr));
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public void A_word_for_a_number_in_the_environment_is_one_line_and_exit_code_2()
    {
        ProcessResult result = ProcessRunner.Server(
            new Dictionary<string, string> { ["Mpc__Signer__MaxSignaturesPerKey"] = "lots" }, "--data", FreshData);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            "error: setting Mpc__Signer__MaxSignaturesPerKey='lots' is not allowed: expected a whole number, 0 (no limit) or more",
            SingleLine(result.Stderr));
        Assert.Equal("", result.Stdout.Trim());
    }

    [Fact]
    public void The_command_line_wins_over_the_environment_which_wins_over_appsettings()
    {
        // An environment-specific settings file beside mpc-server.dll, as an operator would add appsettings.Production.json.
        string environment = "ConfigTest" + Guid.NewGuid().ToString("N")[..8];
        string file = Path.Combine(AppContext.BaseDirectory, $"appsettings.{environment}.json");
        File.WriteAllText(file, """{ "Mpc": { "Signer": { "MaxSignaturesPerKey": -1 } } }""");
        try
        {
            var fromFile = new Dictionary<string, string> { ["DOTNET_ENVIRONMENT"] = environment };
            var fromEnvironment = new Dictionary<string, string>(fromFile) { ["Mpc__Signer__MaxSignaturesPerKey"] = "-2" };

            Assert.Contains("MaxSignaturesPerKey='-1'", SingleLine(ProcessRunner.Server(fromFile, "--data", FreshData).Stderr));
            Assert.Contains("MaxSignaturesPerKey='-2'", SingleLine(ProcessRunner.Server(fromEnvironment, "--data", FreshData).Stderr));
            ProcessResult fromCommandLine = ProcessRunner.Server(fromEnvironment, "--data", FreshData, "--Mpc:Signer:MaxSignaturesPerKey=-3");
            Assert.Contains("MaxSignaturesPerKey='-3'", SingleLine(fromCommandLine.Stderr));
            Assert.Equal(2, fromCommandLine.ExitCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Server_options_win_over_the_same_setting_given_as_configuration()
    {
        ProcessResult result = ProcessRunner.Server(
            new Dictionary<string, string> { ["Mpc__Urls"] = "not a url" }, "--data", FreshData, "--Mpc:Urls=also not", "--urls", "grpc://127.0.0.1:1");

        Assert.Contains("setting Mpc__Urls='grpc://127.0.0.1:1' is not allowed", SingleLine(result.Stderr));
    }

    [Fact]
    public void A_misspelt_option_is_a_usage_error_not_an_ignored_setting()
    {
        ProcessResult result = ProcessRunner.Server(null, "--data", FreshData, "--dta", "x");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("'--dta'", SingleLine(result.Stderr));
    }

    private static string SingleLine(string stderr)
    {
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got {lines.Length}:\n{stderr}");
        return lines[0];
    }
}
