using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Proofs;

/// <summary>
/// The c3 prover hands every secret exponent to the backend with the bound of its range (IBigNumBackend.ModPowSecret),
/// so the browser's JS BigInt pads α to its ~256 bits rather than to N²'s 4096, and no honest exponent exceeds its bound
/// (JsBigIntBackend would then pad to the exponent's own length, which would show); its public exponents (N, the
/// challenge) go with their own length as bound (ModPowPublicExponent), so nothing pads them either.
/// </summary>
[Collection(SignProofCollection.Name)]
public sealed class SignCiphertextExponentBoundTests(SignProofFixture fixture)
{
    [Theory]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P384)]
    public void Every_secret_exponent_of_the_c3_proof_reaches_the_backend_with_a_bound_it_respects(CurveKind kind)
    {
        var backend = new BoundRecordingBackend(fixture.Backend);
        var key = new PaillierPublicKey(fixture.PublicKey.N, backend);
        SignInstance instance = fixture.NewInstance(kind);
        EcCurve curve = instance.Curve;

        using SignCiphertextRandomness randomness = SignCiphertextRandomness.Create(curve, key, instance.EncryptedShare, fixture.Parameters);
        // C^a, r̃^N mod N², s^a, t^γ, s^b, t^δ, t^m, t^μ mod N̂, ρ^N mod N².
        Assert.Equal(9, backend.Calls.Count);
        BigInteger c3 = SignCiphertextProof.EncryptAndProve(
            curve, key, fixture.Parameters, instance.EncryptedShare, instance.R2, instance.X1, instance.X2,
            instance.Alpha, instance.Beta, randomness, instance.Context, instance.Binding, out SignCiphertextProof proof);
        proof.Verify(curve, fixture.PublicKey, fixture.Parameters, instance.EncryptedShare, c3, instance.R2, instance.X1, instance.X2, instance.Context, instance.Binding);

        // Then C^α mod N², s^α and s^β mod N̂, with α's bound ℓ and β's 4ℓ + 129, and ρ^e mod N with the challenge's own
        // length. No exponentiation went without a bound: the browser would pad it to the modulus (N²: 4096 bits).
        Assert.Empty(backend.UnboundedExponents);
        Assert.Equal(13, backend.Calls.Count);
        Assert.All(backend.Calls, call => Assert.True(call.Exponent.BitLength <= call.Bits, $"{call.Exponent.BitLength} > {call.Bits}"));
        Assert.Equal(
            [SignCiphertextProofParameters.AlphaBits(curve), SignCiphertextProofParameters.AlphaBits(curve), SignCiphertextProofParameters.BetaBits(curve)],
            backend.Calls.Skip(9).Take(3).Select(call => call.Bits));
        Assert.Equal(instance.Alpha, backend.Calls[9].Exponent);
        Assert.Equal(instance.Beta, backend.Calls[11].Exponent);
        // The public exponents are bounded by their own length, so nothing pads them.
        Assert.All([backend.Calls[1], backend.Calls[8], backend.Calls[12]], call => Assert.Equal(call.Exponent.BitLength, call.Bits));
        Assert.Equal(fixture.PublicKey.N, backend.Calls[1].Exponent);
        Assert.Equal(fixture.PublicKey.N, backend.Calls[8].Exponent);
    }
}
