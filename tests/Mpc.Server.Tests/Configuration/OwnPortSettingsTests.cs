using System.Globalization;
using Mpc.Server;

namespace Mpc.Server.Tests.Configuration;

/// <summary>
/// The ports the server opens beside the gRPC URLs (metrics Mpc__Metrics__Port, gRPC-Web Mpc__Web__Port, probe
/// Mpc__Health__Port) share one rule (ServerPorts.IsOwnPort): in range, a TCP gRPC URL to take the host from, and a port
/// of its own. A clash of two of them is one line, from the later setting's rule (the probe port's names the metrics and
/// gRPC-Web ports; the gRPC-Web port's names the metrics port).
/// </summary>
public sealed class OwnPortSettingsTests
{
    private const string GrpcPort = "7443", MetricsPort = "9464", WebPort = "7080", ProbePort = "8080", SiloPort = "12000";

    /// <summary>Every port set, each its own, gRPC-Web on: the base each case changes one setting of.</summary>
    private static Dictionary<string, string> AllPorts() => new()
    {
        ["Mpc:Urls"] = $"http://127.0.0.1:{GrpcPort}",
        ["Mpc:Metrics:Port"] = MetricsPort,
        ["Mpc:Web:AllowedOrigins"] = "https://app.example.com",
        ["Mpc:Web:Port"] = WebPort,
        ["Mpc:Health:Port"] = ProbePort,
        ["Mpc:Cluster:SiloPort"] = SiloPort,
    };

    private static string Key(string setting) => setting.Replace("__", ":", StringComparison.Ordinal);

    private static (string, string)[] With(Dictionary<string, string> settings, string key, string value)
    {
        settings[key] = value;
        return [.. settings.Select(pair => (pair.Key, pair.Value))];
    }

    public static TheoryData<string, string> Clashes()
    {
        var data = new TheoryData<string, string>();
        foreach (string port in new[] { "0", "70000", GrpcPort, SiloPort })
        {
            data.Add(MetricsOptions.PortSetting, port);
        }
        foreach (string port in new[] { "0", "70000", GrpcPort, MetricsPort, SiloPort })
        {
            data.Add(WebOptions.PortSetting, port);
        }
        foreach (string port in new[] { "0", "70000", GrpcPort, MetricsPort, WebPort, SiloPort })
        {
            data.Add(HealthOptions.PortSetting, port);
        }
        return data;
    }

    public static TheoryData<string> Settings() => new(MetricsOptions.PortSetting, WebOptions.PortSetting, HealthOptions.PortSetting);

    [Theory]
    [MemberData(nameof(Clashes))]
    public void A_port_out_of_range_or_taken_by_a_port_its_rule_names_is_one_line(string setting, string port)
    {
        ServerStartupException e = MpcSettings.Refused(With(AllPorts(), Key(setting), port));

        string line = Assert.Single(e.Problems);
        Assert.StartsWith($"setting {setting}='{port}' is not allowed: expected a port from 1 to 65535", line);
        Assert.Equal(ServerStartupReason.Setting, e.Reason);
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void In_redis_mode_the_default_silo_port_is_taken_too(string setting)
    {
        var settings = new Dictionary<string, string>
        {
            ["Mpc:Cluster:Mode"] = "redis",
            ["Mpc:Cluster:RedisConnectionString"] = "127.0.0.1:6379",
            ["Mpc:Cluster:PlainSiloTraffic"] = "true",
            ["Mpc:Web:AllowedOrigins"] = "https://app.example.com",
            ["Mpc:Web:Port"] = WebPort,
        };
        string silo = ClusterOptions.DefaultRedisSiloPort.ToString(CultureInfo.InvariantCulture);

        string line = Assert.Single(MpcSettings.Refused(With(settings, Key(setting), silo)).Problems);
        Assert.StartsWith($"setting {setting}='{silo}' is not allowed", line);
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void A_port_needs_a_tcp_grpc_url_to_take_its_host_from(string setting)
    {
        // Otherwise it would listen nowhere: a scrape, a browser's call or a probe would find nothing there.
        var settings = new Dictionary<string, string>
        {
            ["Mpc:Urls"] = "http://unix:/run/mpc/grpc.sock",
            ["Mpc:Web:AllowedOrigins"] = "https://app.example.com",
            [Key(WebOptions.PortSetting)] = WebPort,
        };

        ServerStartupException e = MpcSettings.Refused(With(settings, Key(setting), setting == WebOptions.PortSetting ? WebPort : ProbePort));
        Assert.Contains(e.Problems, line => line.StartsWith($"setting {setting}=", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_port_of_its_own_binds()
    {
        MpcServerOptions options = MpcSettings.Bind([.. AllPorts().Select(pair => (pair.Key, pair.Value))]);

        Assert.Equal((9464, 7080, 8080), (options.Metrics.Port, options.Web.Port, options.Health.Port));
    }

    [Fact]
    public void A_web_port_without_origins_is_refused()
    {
        string line = Assert.Single(MpcSettings.Refused(("Mpc:Urls", "http://127.0.0.1:7443"), ("Mpc:Web:Port", WebPort)).Problems);
        Assert.StartsWith($"setting {WebOptions.PortSetting}='{WebPort}' is not allowed", line);
    }

    [Fact]
    public void A_probe_port_beside_https_beyond_loopback_needs_no_word_about_a_tls_proxy()
    {
        MpcServerOptions options = MpcSettings.Bind(
            ("Mpc:Urls", "https://0.0.0.0:7443"),
            ("Mpc:Auth:PublicKeyFile", "/etc/mpc-signer/auth/issuer.pem"),
            ("Mpc:Health:Port", ProbePort));

        Assert.Equal(8080, options.Health.Port);
        Assert.False(options.PlainHttpBehindTlsProxy);
    }
}
