using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Mpc.Server;
using Mpc.Transport.V1;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Mpc.Server.Tests.Configuration;

/// <summary>
/// The probe port (Mpc__Health__Port) of a running server: plain h2c for kubelet gRPC probes, where only
/// grpc.health.v1.Health answers. ListenTransportTests has it beside an https gRPC port; HealthPortSettingsTests its rule.
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
}
