using Mpc.Server;

namespace Mpc.Server.Tests.Configuration;

/// <summary>The metrics port's rule (Mpc__Metrics__Port): a port of its own, one line when it is not, as the probe port's (HealthPortSettingsTests).</summary>
public sealed class MetricsPortSettingsTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("70000")]
    [InlineData("7443")]  // the gRPC port
    [InlineData("12000")] // the silo port
    public void A_metrics_port_out_of_range_or_taken_by_a_grpc_or_the_silo_port_is_one_line(string port)
    {
        ServerStartupException e = MpcSettings.Refused(
            ("Mpc:Urls", "http://127.0.0.1:7443"),
            ("Mpc:Cluster:SiloPort", "12000"),
            ("Mpc:Metrics:Port", port));

        string line = Assert.Single(e.Problems);
        Assert.StartsWith($"setting {MetricsOptions.PortSetting}='{port}' is not allowed: expected a port from 1 to 65535", line);
        Assert.Equal(ServerStartupReason.Setting, e.Reason);
    }

    [Fact]
    public void In_redis_mode_the_default_silo_port_is_taken_too()
    {
        string line = Assert.Single(MpcSettings.Refused(
            ("Mpc:Cluster:Mode", "redis"),
            ("Mpc:Cluster:RedisConnectionString", "127.0.0.1:6379"),
            ("Mpc:Cluster:PlainSiloTraffic", "true"),
            ("Mpc:Metrics:Port", ClusterOptions.DefaultRedisSiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture))).Problems);
        Assert.StartsWith($"setting {MetricsOptions.PortSetting}='11111' is not allowed", line);
    }

    [Fact]
    public void A_metrics_port_needs_a_tcp_grpc_url_to_take_its_host_from()
    {
        string line = Assert.Single(MpcSettings.Refused(("Mpc:Urls", "http://unix:/run/mpc/grpc.sock"), ("Mpc:Metrics:Port", "9464")).Problems);
        Assert.StartsWith($"setting {MetricsOptions.PortSetting}='9464' is not allowed", line);
    }

    [Theory]
    [InlineData(WebOptions.PortSetting)]
    [InlineData(HealthOptions.PortSetting)]
    public void A_metrics_port_that_is_the_grpc_web_or_probe_port_is_one_line_from_that_ports_rule(string other)
    {
        // One clash, one line: the gRPC-Web and probe ports' rules name the metrics port, so the metrics port's does not name them.
        var settings = new Dictionary<string, string>
        {
            ["Mpc:Web:AllowedOrigins"] = "https://app.example.com",
            ["Mpc:Web:Port"] = "7080",
            ["Mpc:Health:Port"] = "8080",
            ["Mpc:Metrics:Port"] = "9464",
        };
        settings[other.Replace("__", ":", StringComparison.Ordinal)] = "9464";

        string line = Assert.Single(MpcSettings.Refused([.. settings.Select(pair => (pair.Key, pair.Value))]).Problems);
        Assert.StartsWith($"setting {other}='9464' is not allowed", line);
    }

    [Fact]
    public void A_metrics_port_of_its_own_binds()
    {
        MpcServerOptions options = MpcSettings.Bind(
            ("Mpc:Urls", "http://127.0.0.1:7443"),
            ("Mpc:Cluster:SiloPort", "12000"),
            ("Mpc:Metrics:Port", "9464"));

        Assert.Equal(9464, options.Metrics.Port);
    }
}
