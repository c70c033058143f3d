using System.Security.Cryptography;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Protocol.Tests;

/// <summary>The whole protocol on the managed backend, and keys moving between backends.</summary>
[Collection("engine")]
public sealed class BackendTests(EngineFixture engine)
{
    [Fact]
    public void Managed_backend_runs_key_generation_and_signing()
    {
        IBigNumBackend managed = BigNumBackends.Create(BigNumBackendKind.Managed);
        Assert.Equal("managed", managed.Name);
        // The ring-Pedersen secret is reused from the fixture: safe primes in managed code take too long for a test.
        TwoPartyKey key = TwoParty.KeyGen(CurveKind.Secp256k1, engine.Auxiliary, managed);
        Assert.Equal("managed", key.Client.Paillier.Backend.Name);
        for (int i = 0; i < 3; i++)
        {
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            EcdsaSignature signature = TwoParty.Sign(key, digest);
            Assert.True(IndependentVerifiers.BouncyCastle(CurveKind.Secp256k1, key.Client.PublicKey, digest, signature));
        }
    }

    [Fact]
    public void A_key_made_with_OpenSSL_signs_with_the_managed_backend()
    {
        TwoPartyKey original = engine.Key(CurveKind.P256);
        Assert.Equal("openssl", original.Server.Paillier.PublicKey.Backend.Name);
        IBigNumBackend managed = BigNumBackends.Create(BigNumBackendKind.Managed);
        var moved = new TwoPartyKey(
            ServerKeyShare.ImportSecret(original.Server.ExportSecret(), managed),
            ClientKeyShare.ImportSecret(original.Client.ExportSecret(), managed));
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        EcdsaSignature signature = TwoParty.Sign(moved, digest);
        Assert.True(IndependentVerifiers.Platform(CurveKind.P256, original.Client.PublicKey, digest, signature));
    }
}
