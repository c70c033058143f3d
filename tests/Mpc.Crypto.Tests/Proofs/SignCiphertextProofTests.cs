using System.Diagnostics;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using Xunit.Abstractions;

namespace Mpc.Crypto.Tests.Proofs;

/// <summary>The honest path of the c3 proof: it verifies on every curve, both ways, and c3 decrypts to α·x1 + β.</summary>
[Collection(SignProofCollection.Name)]
public sealed class SignCiphertextProofTests(SignProofFixture fixture, ITestOutputHelper output)
{
    [Theory]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P384)]
    public void HonestProofVerifiesWithTheServerKeyAndWithThePublicKey(CurveKind kind)
    {
        SignInstance instance = fixture.NewInstance(kind);
        var stopwatch = Stopwatch.StartNew();
        using SignCiphertextRandomness randomness = Randomness(instance);
        double precompute = stopwatch.Elapsed.TotalMilliseconds;
        stopwatch.Restart();
        BigInteger c3 = Prove(instance, randomness, out SignCiphertextProof proof);
        double prove = stopwatch.Elapsed.TotalMilliseconds;
        stopwatch.Restart();
        proof.Verify(instance.Curve, fixture.Key, fixture.Parameters, instance.EncryptedShare, c3,
            instance.R2, instance.X1, instance.X2, instance.Context, instance.Binding);
        double verifyCrt = stopwatch.Elapsed.TotalMilliseconds;
        stopwatch.Restart();
        proof.Verify(instance.Curve, fixture.PublicKey, fixture.Parameters, instance.EncryptedShare, c3,
            instance.R2, instance.X1, instance.X2, instance.Context, instance.Binding);
        double verifyPublic = stopwatch.Elapsed.TotalMilliseconds;
        output.WriteLine($"Πaff-g on {instance.Curve.Name}: precompute {precompute:F1} ms, prove {prove:F1} ms, " +
            $"verify (CRT) {verifyCrt:F1} ms, verify (public key) {verifyPublic:F1} ms");
        Assert.True(randomness.IsConsumed);
    }

    [Theory]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P384)]
    public void C3DecryptsCentredToTheExactIntegerAlphaX1PlusBeta(CurveKind kind)
    {
        SignInstance instance = fixture.NewInstance(kind);
        using SignCiphertextRandomness randomness = Randomness(instance);
        BigInteger c3 = Prove(instance, randomness, out _);
        BigInteger plaintext = SignCiphertextProof.DecryptCentred(fixture.Key, c3);
        Assert.Equal(instance.Plaintext, plaintext);
        // What the server uses: k2⁻¹·(m' + r·x2·x1) mod q, i.e. the signature's s times k1.
        Assert.Equal(instance.Plaintext.Mod(instance.Curve.Order), plaintext.Mod(instance.Curve.Order));
    }

    [Theory]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public void VerifyAndDecryptReturnsTheCentredPlaintextAndFailsClosedOnAWrongShare(CurveKind kind)
    {
        HonestProof honest = fixture.Prove(fixture.NewInstance(kind));
        SignInstance i = honest.Instance;
        BigInteger plaintext = honest.Proof.VerifyAndDecrypt(i.Curve, fixture.Key, fixture.Parameters, i.EncryptedShare, i.X1Share,
            honest.C3, i.R2, i.X1, i.X2, i.Context, i.Binding);
        Assert.Equal(i.Plaintext, plaintext);
        // A server share that does not belong to c_key makes the honest proof fail: the check never accepts on a mismatch.
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(() => honest.Proof.VerifyAndDecrypt(
            i.Curve, fixture.Key, fixture.Parameters, i.EncryptedShare, i.X1Share.Add(BigInteger.One),
            honest.C3, i.R2, i.X1, i.X2, i.Context, i.Binding));
        Assert.Equal(MpcErrorCode.ProofFailed, e.Code);
    }

    [Fact]
    public void NegativeWitnessDecryptsCentredToTheNegativeInteger()
    {
        // An accepted proof allows a negative α or β; only the centred decoding keeps α·x1 + β exact then.
        SignInstance honest = fixture.NewInstance();
        BigInteger beta = BigInteger.One.ShiftLeft(600).Negate();
        SignInstance instance = honest with { Beta = beta, X2 = honest.R2.Multiply(beta.Mod(honest.Curve.Order)).Normalize() };
        using SignCiphertextRandomness randomness = Randomness(instance);
        BigInteger c3 = Prove(instance, randomness, out SignCiphertextProof proof);
        proof.Verify(instance.Curve, fixture.Key, fixture.Parameters, instance.EncryptedShare, c3,
            instance.R2, instance.X1, instance.X2, instance.Context, instance.Binding);
        BigInteger plaintext = SignCiphertextProof.DecryptCentred(fixture.Key, c3);
        Assert.True(plaintext.SignValue < 0);
        Assert.Equal(instance.Plaintext, plaintext);
        Assert.NotEqual(instance.Plaintext.Mod(instance.Curve.Order), fixture.Key.Decrypt(c3).Mod(instance.Curve.Order));
    }

    [Fact]
    public void WireRoundTripVerifiesAndReEncodesIdentically()
    {
        SignInstance instance = fixture.NewInstance();
        using SignCiphertextRandomness randomness = Randomness(instance);
        BigInteger c3 = Prove(instance, randomness, out SignCiphertextProof proof);
        byte[] bytes = new WireWriter().Also(proof.WriteTo).ToArray();
        var reader = new WireReader(bytes);
        SignCiphertextProof decoded = SignCiphertextProof.ReadFrom(ref reader, instance.Curve);
        reader.EnsureEnd("Πaff-g");
        decoded.Verify(instance.Curve, fixture.Key, fixture.Parameters, instance.EncryptedShare, c3,
            instance.R2, instance.X1, instance.X2, instance.Context, instance.Binding);
        Assert.Equal(bytes, new WireWriter().Also(decoded.WriteTo).ToArray());
        output.WriteLine($"Πaff-g proof on {instance.Curve.Name} with a {fixture.PublicKey.BitLength}-bit N: {bytes.Length} bytes");
    }

    [Fact]
    public void RingPedersenParametersDerivedFromThePaillierKeyAreDeterministicValidAndProvable()
    {
        using RingPedersenSecret again = RingPedersenSecret.DeriveFromPaillier(fixture.Key);
        Assert.Equal(fixture.Parameters, again.Parameters);
        Assert.Equal(fixture.PublicKey.N, again.Parameters.N);
        fixture.Parameters.Validate();
        // s = t^λ with the derived λ, checked with the public-key exponentiation.
        Assert.Equal(fixture.Parameters.S, fixture.Backend.ModPow(fixture.Parameters.T, fixture.RingPedersen.Lambda, fixture.Parameters.N));
        ProofContext context = ProofFixture.NewContext(PartyRole.Server);
        RingPedersenProof proof = RingPedersenProof.Prove(fixture.RingPedersen, context);
        proof.Verify(fixture.Parameters, context, fixture.Backend);
    }

    [Fact]
    public void TheManagedBackendDerivesTheSameParametersAndAcceptsTheSameProof()
    {
        // The same primes behind the variable-time fallback: the derivation and the one-prime check must not depend on the backend.
        using PaillierPrivateKey managed = PaillierPrivateKey.FromPrimesUnchecked(
            fixture.Key.P, fixture.Key.Q, Mpc.Crypto.BigNum.BigNumBackends.Create(Mpc.Crypto.BigNum.BigNumBackendKind.Managed));
        using RingPedersenSecret derived = RingPedersenSecret.DeriveFromPaillier(managed);
        Assert.Equal(fixture.Parameters, derived.Parameters);
        HonestProof honest = fixture.Honest;
        SignInstance i = honest.Instance;
        BigInteger plaintext = honest.Proof.VerifyAndDecrypt(i.Curve, managed, derived.Parameters, i.EncryptedShare, i.X1Share,
            honest.C3, i.R2, i.X1, i.X2, i.Context, i.Binding);
        Assert.Equal(i.Plaintext, plaintext);
    }

    [Fact]
    public void AnotherPaillierKeyDerivesOtherParameters()
    {
        using PaillierPrivateKey other = PaillierPrivateKey.Generate(fixture.Backend);
        using RingPedersenSecret derived = RingPedersenSecret.DeriveFromPaillier(other);
        Assert.NotEqual(fixture.Parameters.S, derived.Parameters.S);
        Assert.NotEqual(fixture.Parameters.T, derived.Parameters.T);
    }

    [Theory]
    [InlineData(CurveKind.P256, 1414)]
    [InlineData(CurveKind.Secp256k1, 1414)]
    [InlineData(CurveKind.P384, 1926)]
    public void MinimumPaillierBitsIsFourEllPlus390(CurveKind kind, int expected)
    {
        EcCurve curve = EcCurve.Get(kind);
        Assert.Equal(expected, SignCiphertextProofParameters.MinimumPaillierBits(curve));
        Assert.Equal(4 * curve.Order.BitLength + 390, SignCiphertextProofParameters.MinimumPaillierBits(curve));
        Assert.True(PaillierPublicKey.MinimumModulusBits >= SignCiphertextProofParameters.MinimumPaillierBits(curve));
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(
            () => SignCiphertextProofParameters.RequirePaillierBits(curve, expected - 1));
        Assert.Equal(MpcErrorCode.PaillierModulusTooSmall, e.Code);
        SignCiphertextProofParameters.RequirePaillierBits(curve, expected);
    }

    [Fact]
    public void HonestResponsesStayInsideTheVerifierRanges()
    {
        // The largest honest witness: α = q-1 and β just below 2^MaskBits·q + q.
        SignInstance instance = fixture.NewInstance();
        BigInteger q = instance.Curve.Order;
        BigInteger maxBeta = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.MaskBits(instance.Curve)).Multiply(q).Subtract(BigInteger.One);
        Assert.True(maxBeta.BitLength <= SignCiphertextProofParameters.BetaBits(instance.Curve));
        Assert.True(q.Subtract(BigInteger.One).BitLength <= SignCiphertextProofParameters.AlphaBits(instance.Curve));
        BigInteger noWrap = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.NoWrapBits(instance.Curve));
        BigInteger extractedAlpha = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.Z1Bits(instance.Curve) + 1);
        BigInteger extractedBeta = BigInteger.One.ShiftLeft(SignCiphertextProofParameters.Z2Bits(instance.Curve) + 1);
        Assert.True(extractedAlpha.Multiply(q).Add(extractedBeta).CompareTo(noWrap) <= 0);
        Assert.True(noWrap.CompareTo(BigInteger.One.ShiftLeft(SignCiphertextProofParameters.MinimumPaillierBits(instance.Curve) - 2)) <= 0);
    }

    private SignCiphertextRandomness Randomness(SignInstance instance) =>
        SignCiphertextRandomness.Create(instance.Curve, fixture.PublicKey, instance.EncryptedShare, fixture.Parameters);

    private BigInteger Prove(SignInstance instance, SignCiphertextRandomness randomness, out SignCiphertextProof proof) =>
        SignCiphertextProof.EncryptAndProve(
            instance.Curve, fixture.PublicKey, fixture.Parameters, instance.EncryptedShare,
            instance.R2, instance.X1, instance.X2, instance.Alpha, instance.Beta, randomness, instance.Context, instance.Binding, out proof);
}

internal static class WireWriterTestExtensions
{
    public static WireWriter Also(this WireWriter writer, Action<WireWriter> write)
    {
        write(writer);
        return writer;
    }
}
