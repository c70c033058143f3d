using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.Curves;

namespace Mpc.Server.Tests.Service;

[Collection("server")]
public sealed class EndToEndTests(ServerFixture server)
{
    [Fact]
    public async Task Key_generation_and_signing_through_the_service()
    {
        using MpcSignerClient client = server.Client("alice");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        byte[] document = RandomNumberGenerator.GetBytes(100);
        MpcSignature signature = await client.SignDataAsync(key, document);
        using var verifier = ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _);
        Assert.True(verifier.VerifyData(document, signature.ToP1363(), HashAlgorithmName.SHA256));
        MpcKeyInfo info = await client.GetKeyAsync(key.KeyId);
        Assert.Equal(key.PublicKeyPem, info.PublicKeyPem);
        Assert.False(info.Frozen);
    }

    [Fact]
    public async Task Health_and_reflection_answer_without_a_token()
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(server.Address);
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        Grpc.Health.V1.HealthCheckResponse status = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, status.Status);

        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("mpc.signer.v1.Signer", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    [Fact]
    public async Task SignHash_does_not_deadlock_on_a_single_threaded_synchronization_context()
    {
        using MpcSignerClient client = server.Client("ui-thread-user");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        using MpcECDsa ecdsa = client.CreateECDsa(key);
        byte[] digest = SHA256.HashData("signed from a UI thread"u8);
        byte[]? signature = null;
        Exception? failure = null;
        // A UI-like thread: its context queues continuations that can only run once the thread is free.
        // If the SDK captured the context, SignHash would wait forever for its own continuation.
        var thread = new Thread(() =>
        {
            SynchronizationContext.SetSynchronizationContext(new QueueOnlyContext());
            try
            {
                signature = ecdsa.SignHash(digest);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "SignHash deadlocked on a single-threaded synchronization context");
        Assert.Null(failure);
        Assert.True(ecdsa.VerifyHash(digest, signature!));
    }

    /// <summary>Accepts posted work and never runs it, like a UI thread that is blocked.</summary>
    private sealed class QueueOnlyContext : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state)
        {
        }

        public override void Send(SendOrPostCallback d, object? state) => d(state);
    }
}
