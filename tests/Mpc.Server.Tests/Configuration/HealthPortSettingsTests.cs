using Mpc.Server;

namespace Mpc.Server.Tests.Configuration;

/// <summary>The probe port's rule (Mpc__Health__Port): a port of its own, one line when it is not, and no plain signing traffic.</summary>
public sealed class HealthPortSettingsTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("70000")]
    [InlineData("7443")]  // the gRPC port
    [InlineData("9464")]  // the metrics port
    [InlineData("7080")]  // the gRPC-Web port
    [InlineData("12000")] // the silo port
    public void A_probe_port_out_of_range_or_taken_by_another_of_the_servers_ports_is_one_line(string port)
    {
        ServerStartupException e = MpcSettings.Refused(
            ("Mpc:Urls", "http://127.0.0.1:7443"),
            ("Mpc:Metrics:Port", "9464"),
            ("Mpc:Web:AllowedOrigins", "https://app.example.com"),
            ("Mpc:Web:Port", "7080"),
            ("Mpc:Cluster:SiloPort", "12000"),
            ("Mpc:Health:Port", port));

        string line = Assert.Single(e.Problems);
        Assert.StartsWith($"setting {HealthOptions.PortSetting}='{port}' is not allowed: expected a port from 1 to 65535", line);
        Assert.Equal(ServerStartupReason.Setting, e.Reason);
    }

    [Fact]
    public void In_redis_mode_the_default_silo_port_is_taken_too()
    {
        string line = Assert.Single(MpcSettings.Refused(
            ("Mpc:Cluster:Mode", "redis"),
            ("Mpc:Cluster:RedisConnectionString", "127.0.0.1:6379"),
            ("Mpc:Cluster:PlainSiloTraffic", "true"),
            ("Mpc:Health:Port", ClusterOptions.DefaultRedisSiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture))).Problems);
        Assert.StartsWith($"setting {HealthOptions.PortSetting}='11111' is not allowed", line);
    }

    [Fact]
    public void A_probe_port_needs_a_tcp_grpc_url_to_take_its_host_from()
    {
        string line = Assert.Single(MpcSettings.Refused(("Mpc:Urls", "http://unix:/run/mpc/grpc.sock"), ("Mpc:Health:Port", "8080")).Problems);
        Assert.StartsWith($"setting {HealthOptions.PortSetting}='8080' is not allowed", line);
    }

    [Fact]
    public void A_probe_port_beside_https_beyond_loopback_needs_no_word_about_a_tls_proxy()
    {
        MpcServerOptions options = MpcSettings.Bind(
            ("Mpc:Urls", "https://0.0.0.0:7443"),
            ("Mpc:Auth:PublicKeyFile", "/etc/mpc-signer/auth/issuer.pem"),
            ("Mpc:Health:Port", "8080"));

        Assert.Equal(8080, options.Health.Port);
        Assert.False(options.PlainHttpBehindTlsProxy);
    }
}
