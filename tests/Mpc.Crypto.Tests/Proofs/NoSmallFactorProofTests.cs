using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using static Mpc.Crypto.Tests.Proofs.ProofFixture;

namespace Mpc.Crypto.Tests.Proofs;

[Collection(ProofCollection.Name)]
public sealed class NoSmallFactorProofTests(ProofFixture fixture)
{
    private NoSmallFactorProof Proof => fixture.FactorProof;

    private PaillierPublicKey PublicKey => fixture.Key.PublicKey;

    private RingPedersenParameters Parameters => fixture.Parameters;

    [Fact]
    public void HonestProofVerifies()
    {
        Proof.Verify(PublicKey, Parameters, fixture.ServerContext);
        // The device's own check: the ring-Pedersen equalities modulo one of its primes, with s = t^λ.
        Proof.Verify(PublicKey, Parameters, fixture.ServerContext, fixture.RingPedersen);
    }

    [Fact]
    public void A_verifier_secret_of_other_parameters_is_refused()
    {
        using RingPedersenSecret other = RingPedersenSecret.DeriveFromPaillier(fixture.Key);
        Assert.Throws<ArgumentException>(() => Proof.Verify(PublicKey, Parameters, fixture.ServerContext, other));
    }

    [Fact]
    public void WireRoundTripVerifies()
    {
        byte[] bytes = Encode(Proof.WriteTo);
        var reader = new WireReader(bytes);
        NoSmallFactorProof decoded = NoSmallFactorProof.ReadFrom(ref reader);
        reader.EnsureEnd("Πfac");
        decoded.Verify(PublicKey, Parameters, fixture.ServerContext);
        Assert.Equal(bytes, Encode(decoded.WriteTo));
    }

    [Fact]
    public void TamperedFieldsAreRejected()
    {
        NoSmallFactorProof p = Proof;
        BigInteger n = Parameters.N;
        BigInteger one = BigInteger.One;
        NoSmallFactorProof[] tampered =
        [
            new(p.P.Multiply(Parameters.S).Mod(n), p.Q, p.A, p.B, p.T, p.Sigma, p.Z1, p.Z2, p.W1, p.W2, p.V),
            new(p.P, p.Q.Multiply(Parameters.T).Mod(n), p.A, p.B, p.T, p.Sigma, p.Z1, p.Z2, p.W1, p.W2, p.V),
            new(p.P, p.Q, BigInteger.Zero, p.B, p.T, p.Sigma, p.Z1, p.Z2, p.W1, p.W2, p.V),
            new(p.P, p.Q, p.A, p.B, p.T.Add(n), p.Sigma, p.Z1, p.Z2, p.W1, p.W2, p.V),
            new(p.P, p.Q, p.A, p.B, p.T, p.Sigma.Add(one), p.Z1, p.Z2, p.W1, p.W2, p.V),
            new(p.P, p.Q, p.A, p.B, p.T, p.Sigma, p.Z1.Add(one), p.Z2, p.W1, p.W2, p.V),
            new(p.P, p.Q, p.A, p.B, p.T, p.Sigma, p.Z1, p.Z2.Subtract(one), p.W1, p.W2, p.V),
            new(p.P, p.Q, p.A, p.B, p.T, p.Sigma, p.Z1, p.Z2, p.W1.Negate(), p.W2, p.V),
            new(p.P, p.Q, p.A, p.B, p.T, p.Sigma, p.Z1, p.Z2, p.W1, p.W2.Add(one), p.V),
            new(p.P, p.Q, p.A, p.B, p.T, p.Sigma, p.Z1, p.Z2, p.W1, p.W2, p.V.Add(one)),
        ];
        foreach (NoSmallFactorProof proof in tampered)
        {
            AssertRejected(MpcErrorCode.ProofFailed, () => proof.Verify(PublicKey, Parameters, fixture.ServerContext));
            AssertRejected(MpcErrorCode.ProofFailed, () => proof.Verify(PublicKey, Parameters, fixture.ServerContext, fixture.RingPedersen));
        }
    }

    [Fact]
    public void ProofUnderAnotherContextIsRejected()
    {
        ProofContext context = fixture.ServerContext;
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(PublicKey, Parameters, OtherSession(context)));
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(PublicKey, Parameters, context.ForProver(PartyRole.Client)));
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(PublicKey, Parameters, OtherKeyId(context)));
    }

    [Fact]
    public void ProofAgainstOtherParametersIsRejected()
    {
        var swapped = new RingPedersenParameters(Parameters.N, Parameters.T, Parameters.S);
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(PublicKey, swapped, fixture.ServerContext));
    }

    [Fact]
    public void ModulusWithA128BitFactorIsRejected()
    {
        // BitForge: the prover runs the honest algorithm on N = p_small·q_big; z2 = β + e·q_big is far out of range.
        PaillierPrivateKey bad = fixture.SmallFactorKey;
        Assert.Equal(2048, bad.PublicKey.N.BitLength);
        NoSmallFactorProof proof = NoSmallFactorProof.Prove(bad, Parameters, fixture.ServerContext);
        Assert.Throws<MpcProtocolException>(() => proof.Verify(bad.PublicKey, Parameters, fixture.ServerContext, fixture.RingPedersen));
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(() => proof.Verify(bad.PublicKey, Parameters, fixture.ServerContext));
        Assert.Equal(MpcErrorCode.ProofFailed, e.Code);
        Assert.Contains("outside ±√N0", e.Message, StringComparison.Ordinal);
        Assert.Contains("Πfac", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadFromRejectsMalformedInput()
    {
        byte[] bytes = Encode(Proof.WriteTo);
        AssertRejected(MpcErrorCode.MalformedMessage, () =>
        {
            var reader = new WireReader(bytes.AsSpan(0, bytes.Length - 1));
            NoSmallFactorProof.ReadFrom(ref reader);
        });
        NoSmallFactorProof p = Proof;
        byte[] hugeZ1 = Encode(new NoSmallFactorProof(p.P, p.Q, p.A, p.B, p.T, p.Sigma, p.Z1.ShiftLeft(4000), p.Z2, p.W1, p.W2, p.V).WriteTo);
        AssertRejected(MpcErrorCode.MalformedMessage, () =>
        {
            var reader = new WireReader(hugeZ1);
            NoSmallFactorProof.ReadFrom(ref reader);
        });
    }

    [Fact]
    public void IntegerSqrtIsExact()
    {
        BigInteger n = PublicKey.N;
        BigInteger root = ProofMath.IntegerSqrt(n);
        Assert.True(root.Multiply(root).CompareTo(n) <= 0);
        BigInteger next = root.Add(BigInteger.One);
        Assert.True(next.Multiply(next).CompareTo(n) > 0);
        Assert.Equal(BigInteger.Zero, ProofMath.IntegerSqrt(BigInteger.Zero));
        Assert.Equal(BigInteger.Three, ProofMath.IntegerSqrt(BigInteger.ValueOf(15)));
        Assert.Equal(BigInteger.Four, ProofMath.IntegerSqrt(BigInteger.ValueOf(16)));
    }
}

[Collection(ProofCollection.Name)]
public sealed class ManagedBackendVerificationTests(ProofFixture fixture)
{
    [Fact]
    public void ProofsMadeWithOpenSslVerifyWithTheManagedBackend()
    {
        var managed = new Mpc.Crypto.BigNum.ManagedBigNumBackend();
        var publicKey = new PaillierPublicKey(fixture.Key.PublicKey.N, managed);
        fixture.FactorProof.Verify(publicKey, fixture.Parameters, fixture.ServerContext);
        fixture.DlogProof.Verify(fixture.Curve, publicKey, fixture.ShareCiphertext, fixture.SharePoint, fixture.Parameters, fixture.ServerContext);
        AssertRejected(MpcErrorCode.ProofFailed, () =>
            fixture.DlogProof.Verify(fixture.Curve, publicKey, fixture.ShareCiphertext, fixture.SharePoint.Negate().Normalize(), fixture.Parameters, fixture.ServerContext));
    }
}
