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
}
