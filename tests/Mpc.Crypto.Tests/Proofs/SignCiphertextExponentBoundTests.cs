using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Proofs;

/// <summary>
/// The c3 prover hands every secret exponent to the backend with the bound of its range (IBigNumBackend.ModPowSecret),
/// so the browser's JS BigInt pads α to its ~256 bits rather than to N²'s 4096, and no honest exponent exceeds its bound
/// (JsBigIntBackend would then pad to the exponent's own length, which would show).
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
        // C^a mod N², s^a, t^γ, s^b, t^δ, t^m, t^μ mod N̂.
        Assert.Equal(7, backend.Calls.Count);
        BigInteger c3 = SignCiphertextProof.EncryptAndProve(
            curve, key, fixture.Parameters, instance.EncryptedShare, instance.R2, instance.X1, instance.X2,
            instance.Alpha, instance.Beta, randomness, instance.Context, instance.Binding, out SignCiphertextProof proof);
        proof.Verify(curve, fixture.PublicKey, fixture.Parameters, instance.EncryptedShare, c3, instance.R2, instance.X1, instance.X2, instance.Context, instance.Binding);

        // Then C^α mod N², s^α and s^β mod N̂, with α's bound ℓ and β's 4ℓ + 129.
        Assert.Equal(10, backend.Calls.Count);
        Assert.All(backend.Calls, call => Assert.True(call.Exponent.BitLength <= call.Bits, $"{call.Exponent.BitLength} > {call.Bits}"));
        Assert.Equal(
            [SignCiphertextProofParameters.AlphaBits(curve), SignCiphertextProofParameters.AlphaBits(curve), SignCiphertextProofParameters.BetaBits(curve)],
            backend.Calls.Skip(7).Select(call => call.Bits));
        Assert.Equal(instance.Alpha, backend.Calls[7].Exponent);
        Assert.Equal(instance.Beta, backend.Calls[9].Exponent);
    }

    /// <summary>The fixture's backend, noting each ModPowSecret's exponent and bound.</summary>
    private sealed class BoundRecordingBackend(IBigNumBackend inner) : IBigNumBackend
    {
        public List<(BigInteger Exponent, int Bits)> Calls { get; } = [];

        public string Name => inner.Name;

        public bool IsConstantTime => inner.IsConstantTime;

        public BigInteger ModPow(BigInteger value, BigInteger exponent, BigInteger modulus) => inner.ModPow(value, exponent, modulus);

        public BigInteger ModPowSecret(BigInteger value, BigInteger exponent, BigInteger modulus, int exponentBits)
        {
            Calls.Add((exponent, exponentBits));
            return inner.ModPowSecret(value, exponent, modulus, exponentBits);
        }

        public BigInteger ModMultiply(BigInteger value, BigInteger factor, BigInteger modulus) => inner.ModMultiply(value, factor, modulus);

        public BigInteger GeneratePrime(int bits, bool blum) => inner.GeneratePrime(bits, blum);

        public BigInteger GenerateSafePrime(int bits) => inner.GenerateSafePrime(bits);

        public bool IsProbablePrime(BigInteger candidate) => inner.IsProbablePrime(candidate);

        IPaillierDecryptionContext IBigNumBackend.CreateDecryptionContext(BigInteger p, BigInteger q) => inner.CreateDecryptionContext(p, q);
    }
}
