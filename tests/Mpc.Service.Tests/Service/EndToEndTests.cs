using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.Curves;

namespace Mpc.Service.Tests.Service;

[Collection("server")]
public sealed class EndToEndTests(ServerFixture server)
{
    [Fact]
    public async Task Key_generation_and_signing_through_the_service()
    {
        using MpcSignerClient client = server.Client("alice");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        byte[] document = RandomNumberGenerator.GetBytes(100);
        EcdsaSignature signature = await client.SignDataAsync(key, document);
        using var verifier = ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _);
        Assert.True(verifier.VerifyData(document, signature.ToP1363(32), HashAlgorithmName.SHA256));
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
}
