using System.Security.Cryptography;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;

namespace Mpc.Protocol.Tests;

/// <summary>The engine signs low-s by default on every curve, so strict verifiers accept its signatures as they are.</summary>
[Collection("engine")]
public sealed class LowSTests(EngineFixture engine)
{
    private const int SignaturesPerCurve = 100;

    [Fact]
    public void Signatures_made_with_the_engine_defaults_are_low_s_on_every_curve_and_verify_with_libsecp256k1_and_noble_as_they_are()
    {
        var nobleCases = new List<(CurveKind, Org.BouncyCastle.Math.EC.ECPoint, byte[], byte[])>();
        var highSControls = new List<(CurveKind, Org.BouncyCastle.Math.EC.ECPoint, byte[], byte[])>();
        foreach (CurveKind kind in new[] { CurveKind.Secp256k1, CurveKind.P256, CurveKind.P384 })
        {
            TwoPartyKey key = engine.Key(kind);
            EcCurve curve = EcCurve.Get(kind);
            for (int i = 0; i < SignaturesPerCurve; i++)
            {
                byte[] digest = RandomNumberGenerator.GetBytes(curve.ScalarLength);
                EcdsaSignature signature = SignWithDefaults(key, digest);
                Assert.True(signature.IsLowS(curve), $"{curve.Name} signature {i} is high-s");
                Assert.True(IndependentVerifiers.BouncyCastle(kind, key.Client.PublicKey, digest, signature));
                if (kind == CurveKind.Secp256k1)
                {
                    Assert.Equal((true, true), LowSVerifiers.LibSecp256k1(key.Client.PublicKey, digest, signature));
                    // Control: the same signature with s replaced by n - s is refused, so the check above can fail.
                    var high = new EcdsaSignature(signature.R, curve.Order.Subtract(signature.S), signature.RecoveryId ^ 1);
                    Assert.False(LowSVerifiers.LibSecp256k1(key.Client.PublicKey, digest, high).Verified);
                }
                nobleCases.Add((kind, key.Client.PublicKey, digest, signature.ToDer()));
                if (i < 3)
                {
                    highSControls.Add((kind, key.Client.PublicKey, digest,
                        new EcdsaSignature(signature.R, curve.Order.Subtract(signature.S), signature.RecoveryId ^ 1).ToDer()));
                }
            }
        }
        bool[] verified = LowSVerifiers.Noble([.. nobleCases, .. highSControls]);
        Assert.All(verified.Take(nobleCases.Count), Assert.True);
        Assert.All(verified.Skip(nobleCases.Count), Assert.False);
    }

    [Fact]
    public void Opting_out_of_low_s_gives_both_halves_and_each_verifies_with_the_right_recovery_id()
    {
        TwoPartyKey key = engine.Key(CurveKind.Secp256k1);
        EcCurve curve = EcCurve.Get(CurveKind.Secp256k1);
        int high = 0;
        for (int i = 0; i < 40; i++)
        {
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            EcdsaSignature signature = TwoParty.Sign(key, digest, lowS: false);
            (bool verified, bool recovered) = LowSVerifiers.LibSecp256k1(key.Client.PublicKey, digest, signature);
            Assert.True(recovered);
            Assert.Equal(signature.IsLowS(curve), verified);
            high += signature.IsLowS(curve) ? 0 : 1;
        }
        // 40 fair coin flips all landing on one side has probability 2^-39.
        Assert.InRange(high, 1, 39);
    }

    /// <summary>One signature through the wire encodings, the client session constructed with nothing but key and digest.</summary>
    private static EcdsaSignature SignWithDefaults(TwoPartyKey key, byte[] digest)
    {
        CurveKind curve = key.Server.Curve;
        var server = new SignServerSession(key.Server);
        var client = new SignClientSession(key.Client, Digest.Parse(digest));
        SignNonce nonce = SignNonce.Decode(client.HandleCommitment(SignCommitment.Decode(server.Commitment.Encode())).Encode(), curve);
        Assert.True(nonce.LowS);
        SignOpening opening = SignOpening.Decode(server.HandleNonce(nonce).Encode(), curve);
        SignServerOutcome outcome = server.HandleCiphertext(SignCiphertext.Decode(client.HandleOpening(opening).Encode(), curve, server.PaillierModulusBits));
        return client.HandleResult(SignResult.Decode(outcome.Message!.Encode(), curve));
    }
}
