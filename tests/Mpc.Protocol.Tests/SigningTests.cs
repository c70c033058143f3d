using System.Security.Cryptography;
using Mpc.Crypto.Curves;

namespace Mpc.Protocol.Tests;

[Collection("engine")]
public sealed class SigningTests(EngineFixture engine)
{
    private const int SignaturesPerCurve = 200;

    [Theory]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public void Two_hundred_signatures_verify_with_independent_verifiers(CurveKind curve)
    {
        TwoPartyKey key = engine.Key(curve);
        var rValues = new HashSet<string>();
        for (int i = 0; i < SignaturesPerCurve; i++)
        {
            byte[] document = RandomNumberGenerator.GetBytes(64 + i);
            byte[] digest = TwoParty.DigestFor(curve, document);
            EcdsaSignature signature = TwoParty.Sign(key, digest, lowS: i % 2 == 0);

            bool verified = curve == CurveKind.Secp256k1
                ? IndependentVerifiers.BouncyCastle(curve, key.Client.PublicKey, digest, signature)
                : IndependentVerifiers.Platform(curve, key.Client.PublicKey, digest, signature);
            Assert.True(verified, $"signature {i} on {curve} did not verify");
            Assert.True(rValues.Add(signature.R.ToString(16)), "an r value repeated");
            if (i % 2 == 0)
            {
                Assert.True(signature.IsLowS(EcCurve.Get(curve)));
            }

            if (i % 40 == 0)
            {
                (bool ok, string output) = IndependentVerifiers.OpenSsl(curve, key.Client.PublicKey, document, signature);
                Assert.True(ok, $"openssl refused signature {i} on {curve}: {output}");
            }
        }
    }

    [Theory]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public void Digests_whose_scalar_is_zero_mod_q_sign_and_verify(CurveKind curve)
    {
        // m' = 0 makes X2 = m'·G the identity in the c3 proof; a digest equal to q reduces to the same m'.
        TwoPartyKey key = engine.Key(curve);
        EcCurve c = EcCurve.Get(curve);
        byte[] zeros = new byte[c.ScalarLength];
        byte[] order = c.EncodeScalar(c.Order.Subtract(Org.BouncyCastle.Math.BigInteger.One));
        order[^1]++;
        foreach (byte[] digest in new[] { zeros, order })
        {
            Assert.Equal(0, c.DigestToScalar(Digest.Parse(digest)).Mod(c.Order).SignValue);
            EcdsaSignature signature = TwoParty.Sign(key, digest, lowS: true);
            Assert.True(IndependentVerifiers.BouncyCastle(curve, key.Client.PublicKey, digest, signature));
        }
    }

    [Theory]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public void Both_parties_derive_the_same_public_key_and_no_share_equals_it(CurveKind curve)
    {
        TwoPartyKey key = engine.Key(curve);
        EcCurve c = EcCurve.Get(curve);
        Assert.Equal(key.Server.PublicKey, key.Client.PublicKey);
        Assert.Equal(key.Server.KeyId, key.Client.KeyId);
        // Q = x1·x2·G, and neither share alone is the discrete log of Q.
        Assert.Equal(key.Server.PublicKey, c.MultiplyBase(key.Server.X1.Multiply(key.Client.X2).Mod(c.Order)));
        Assert.NotEqual(key.Server.PublicKey, c.MultiplyBase(key.Server.X1));
        Assert.NotEqual(key.Server.PublicKey, c.MultiplyBase(key.Client.X2));
    }

    [Fact]
    public void Recovery_id_recovers_the_public_key()
    {
        TwoPartyKey key = engine.Key(CurveKind.Secp256k1);
        EcCurve c = EcCurve.Get(CurveKind.Secp256k1);
        for (int i = 0; i < 10; i++)
        {
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            EcdsaSignature signature = TwoParty.Sign(key, digest, lowS: true);
            // Rebuild R from r and the recovery id, then Q = r⁻¹(s·R − e·G).
            byte[] compressed = new byte[33];
            compressed[0] = (byte)(0x02 | (signature.RecoveryId & 1));
            c.EncodeScalar(signature.R).CopyTo(compressed, 1);
            Org.BouncyCastle.Math.EC.ECPoint r = c.DecodePoint(compressed, "R");
            Org.BouncyCastle.Math.BigInteger e = c.DigestToScalar(Digest.Parse(digest));
            Org.BouncyCastle.Math.EC.ECPoint recovered = r.Multiply(signature.S).Subtract(c.G.Multiply(e))
                .Multiply(signature.R.ModInverse(c.Order)).Normalize();
            Assert.Equal(key.Client.PublicKey, recovered);
        }
    }

    [Fact]
    public void Precomputed_randomness_gives_a_valid_signature_and_is_spent()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        var randomness = TwoParty.Randomness(key.Client);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        EcdsaSignature signature = TwoParty.Sign(key, digest, randomness: randomness);
        Assert.True(IndependentVerifiers.Platform(CurveKind.P256, key.Client.PublicKey, digest, signature));
        Assert.True(randomness.IsConsumed);
        Assert.Throws<ArgumentException>(() => new Signing.SignClientSession(key.Client, Digest.Parse(digest), randomness: randomness));
    }

    [Fact]
    public void Key_shares_survive_export_and_import()
    {
        TwoPartyKey key = engine.Key(CurveKind.P256);
        byte[] serverBytes = key.Server.ExportSecret();
        byte[] clientBytes = key.Client.ExportSecret();
        var restored = new TwoPartyKey(
            Keys.ServerKeyShare.ImportSecret(serverBytes, engine.Backend),
            Keys.ClientKeyShare.ImportSecret(clientBytes, engine.Backend));
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        EcdsaSignature signature = TwoParty.Sign(restored, digest);
        Assert.True(IndependentVerifiers.Platform(CurveKind.P256, key.Client.PublicKey, digest, signature));
        Assert.True(restored.Client.CanSign);
        Assert.Equal(key.Client.ServerRingPedersen, restored.Client.ServerRingPedersen);
        Assert.Equal(key.Server.RingPedersen.Parameters, restored.Client.ServerRingPedersen);
        Assert.DoesNotContain("X1", restored.Server.ToString(), StringComparison.OrdinalIgnoreCase);
    }
}
