using Mpc.Server;

namespace Mpc.Server.Tests.Configuration;

/// <summary>
/// The gRPC-Web port's rule (Mpc__Web__Port) shares the metrics and probe ports' (ServerPorts): the silo port, and a
/// gRPC URL list with no TCP URL to take its host from, are refused as the gRPC ports and the metrics port are.
/// </summary>
public sealed class WebPortSettingsTests
{
    private static readonly (string, string) Origins = ("Mpc:Web:AllowedOrigins", "https://app.example.com");

    [Theory]
    [InlineData("0")]
    [InlineData("70000")]
    [InlineData("7443")]  // the gRPC port
    [InlineData("9464")]  // the metrics port
    [InlineData("12000")] // the silo port
    public void A_web_port_out_of_range_or_taken_by_a_grpc_metrics_or_silo_port_is_one_line(string port)
    {
        ServerStartupException e = MpcSettings.Refused(
            Origins,
            ("Mpc:Urls", "http://127.0.0.1:7443"),
            ("Mpc:Metrics:Port", "9464"),
            ("Mpc:Cluster:SiloPort", "12000"),
            ("Mpc:Web:Port", port));

        string line = Assert.Single(e.Problems);
        Assert.StartsWith($"setting {WebOptions.PortSetting}='{port}' is not allowed: expected a port from 1 to 65535", line);
    }

    [Fact]
    public void In_redis_mode_the_default_silo_port_is_taken_too()
    {
        string line = Assert.Single(MpcSettings.Refused(
            Origins,
            ("Mpc:Cluster:Mode", "redis"),
            ("Mpc:Cluster:RedisConnectionString", "127.0.0.1:6379"),
            ("Mpc:Cluster:PlainSiloTraffic", "true"),
            ("Mpc:Web:Port", ClusterOptions.DefaultRedisSiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture))).Problems);
        Assert.StartsWith($"setting {WebOptions.PortSetting}='11111' is not allowed", line);
    }

    [Fact]
    public void A_web_port_needs_a_tcp_grpc_url_to_take_its_host_from()
    {
        // Otherwise it would listen nowhere, and the browser's calls would find nothing there.
        string line = Assert.Single(MpcSettings.Refused(Origins, ("Mpc:Urls", "http://unix:/run/mpc/grpc.sock"), ("Mpc:Web:Port", "7080")).Problems);
        Assert.StartsWith($"setting {WebOptions.PortSetting}='7080' is not allowed", line);
    }

    [Fact]
    public void A_web_port_of_its_own_binds_and_one_without_origins_does_not()
    {
        MpcServerOptions options = MpcSettings.Bind(Origins, ("Mpc:Urls", "http://127.0.0.1:7443"), ("Mpc:Cluster:SiloPort", "12000"), ("Mpc:Web:Port", "7080"));
        Assert.Equal(7080, options.Web.Port);

        string line = Assert.Single(MpcSettings.Refused(("Mpc:Urls", "http://127.0.0.1:7443"), ("Mpc:Web:Port", "7080")).Problems);
        Assert.StartsWith($"setting {WebOptions.PortSetting}='7080' is not allowed", line);
    }
}
