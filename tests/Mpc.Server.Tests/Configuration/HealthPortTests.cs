using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Mpc.Server;
using Mpc.Transport.V1;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Mpc.Server.Tests.Configuration;

/// <summary>
/// The probe port (Mpc__Health__Port): plain h2c for kubelet gRPC probes beside a gRPC port that may be TLS, where only
/// grpc.health.v1.Health answers. Its rule: a port of its own, and no plain signing traffic.
/// </summary>
public sealed class HealthPortTests : IAsyncLifetime
{
    private const string User = "probe-port-user";

    private readonly int _probePort = ClusterPorts.Free();
    private readonly ServerFixture _server;

    public HealthPortTests() => _server = new ServerFixture { ConfigureOptions = options => options.Health.Port = _probePort };

    private Uri ProbeAddress => new($"http://127.0.0.1:{_probePort}");

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task The_probe_port_answers_health_and_refuses_every_signer_call_that_the_grpc_port_serves()
    {
        using GrpcChannel probe = GrpcChannel.ForAddress(ProbeAddress);
        var health = new Health.HealthClient(probe);
        foreach (string name in ServerHealth.ServiceNames)
        {
            Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = name })).Status);
        }

        // The same call with the same valid token: served on the gRPC port, refused on the probe port.
        using RawSigner onGrpcPort = _server.Raw(_server.Token(User));
        Assert.Equal(StatusCode.OK, await RawSigner.StatusOf(async () => await onGrpcPort.Client.ListKeysAsync(new ListKeysRequest(), onGrpcPort.Headers)));
        using RawSigner onProbePort = new(ProbeAddress, _server.Token(User));
        Assert.Equal(StatusCode.Unimplemented, await RawSigner.StatusOf(async () => await onProbePort.Client.ListKeysAsync(new ListKeysRequest(), onProbePort.Headers)));
        Assert.Equal(StatusCode.Unimplemented, await RawSigner.StatusOf(async () =>
            await onProbePort.Client.BeginKeyGenAsync(new BeginKeyGenRequest(), onProbePort.Headers)));

        var admin = new SignerAdmin.SignerAdminClient(probe);
        var adminHeaders = new Metadata { { "authorization", "Bearer " + _server.AdminToken() } };
        Assert.Equal(StatusCode.Unimplemented, await RawSigner.StatusOf(async () =>
            await admin.UnfreezeKeyAsync(new UnfreezeKeyRequest(), adminHeaders)));

        // Reflection answers on the gRPC port and not on the probe port.
        using GrpcChannel grpc = GrpcChannel.ForAddress(_server.Address);
        Assert.Equal(StatusCode.OK, await ReflectionStatusAsync(grpc));
        Assert.Equal(StatusCode.Unimplemented, await ReflectionStatusAsync(probe));
    }

    /// <summary>One empty ServerReflectionInfo exchange (the server answers an empty request with an error message, not a failed call).</summary>
    private static async Task<StatusCode> ReflectionStatusAsync(GrpcChannel channel)
    {
        var bytes = new Marshaller<byte[]>(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "grpc.reflection.v1alpha.ServerReflection", "ServerReflectionInfo", bytes, bytes);
        try
        {
            using AsyncDuplexStreamingCall<byte[], byte[]> call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, new CallOptions());
            await call.RequestStream.WriteAsync([]);
            await call.RequestStream.CompleteAsync();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

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
