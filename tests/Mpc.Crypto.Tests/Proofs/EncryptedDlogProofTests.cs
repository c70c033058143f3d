using System.Diagnostics;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using Xunit.Abstractions;
using static Mpc.Crypto.Tests.Proofs.ProofFixture;

namespace Mpc.Crypto.Tests.Proofs;

[Collection(ProofCollection.Name)]
public sealed class EncryptedDlogProofTests(ProofFixture fixture, ITestOutputHelper output)
{
    private EncryptedDlogProof Proof => fixture.DlogProof;

    private PaillierPublicKey PublicKey => fixture.Key.PublicKey;

    private RingPedersenParameters Parameters => fixture.Parameters;

    private EcCurve Curve => fixture.Curve;

    /// <summary>Both ways a verifier checks: modulo N̂, and modulo one of its own primes (with the trapdoor); both must agree.</summary>
    private void Verify(EncryptedDlogProof proof, ProofContext? context = null)
    {
        Exception? withoutSecret = Record.Exception(() =>
            proof.Verify(Curve, PublicKey, fixture.ShareCiphertext, fixture.SharePoint, Parameters, context ?? fixture.ServerContext));
        Exception? withSecret = Record.Exception(() =>
            proof.Verify(Curve, PublicKey, fixture.ShareCiphertext, fixture.SharePoint, Parameters, context ?? fixture.ServerContext, fixture.RingPedersen));
        Assert.Equal(withoutSecret?.GetType(), withSecret?.GetType());
        Assert.Equal(withoutSecret?.Message, withSecret?.Message);
        if (withoutSecret is not null)
        {
            throw withoutSecret;
        }
    }

    [Fact]
    public void HonestProofVerifies() => Verify(Proof);

    [Theory]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public void HonestProofVerifiesOnOtherCurves(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        BigInteger x = curve.RandomScalar();
        BigInteger nonce = PublicKey.RandomUnit();
        BigInteger c = fixture.Key.EncryptWithNonce(x, nonce);
        var context = new ProofContext(fixture.ServerContext.SessionId, PartyRole.Server, "key-1", kind);
        var stopwatch = Stopwatch.StartNew();
        EncryptedDlogProof proof = EncryptedDlogProof.Prove(curve, fixture.Key, c, x, nonce, Parameters, context);
        double prove = stopwatch.Elapsed.TotalMilliseconds;
        stopwatch.Restart();
        proof.Verify(curve, PublicKey, c, curve.MultiplyBase(x), Parameters, context);
        output.WriteLine($"Πlog* on {curve.Name}: prove {prove:F1} ms, verify {stopwatch.Elapsed.TotalMilliseconds:F1} ms");
        Assert.Equal(curve.PointLength, proof.Y.Length);
    }

    [Fact]
    public void WireRoundTripVerifies()
    {
        byte[] bytes = Encode(Proof.WriteTo);
        var reader = new WireReader(bytes);
        EncryptedDlogProof decoded = EncryptedDlogProof.ReadFrom(ref reader, Curve);
        reader.EnsureEnd("Πlog*");
        Verify(decoded);
        Assert.Equal(bytes, Encode(decoded.WriteTo));
    }

    [Fact]
    public void TamperedFieldsAreRejected()
    {
        EncryptedDlogProof p = Proof;
        BigInteger one = BigInteger.One;
        byte[] otherY = Curve.EncodePoint(Curve.DecodePoint(p.Y.Span, "Y").Add(Curve.G).Normalize());
        EncryptedDlogProof[] tampered =
        [
            new(p.S.Multiply(Parameters.S).Mod(Parameters.N), p.A, p.Y.Span, p.D, p.Z1, p.Z2, p.Z3),
            new(p.S, p.A.Multiply(PublicKey.N.Add(one)).Mod(PublicKey.NSquared), p.Y.Span, p.D, p.Z1, p.Z2, p.Z3),
            new(p.S, PublicKey.N, p.Y.Span, p.D, p.Z1, p.Z2, p.Z3),
            new(p.S, p.A, otherY, p.D, p.Z1, p.Z2, p.Z3),
            new(p.S, p.A, p.Y.Span, p.D.Add(one), p.Z1, p.Z2, p.Z3),
            new(p.S, p.A, p.Y.Span, p.D, p.Z1.Add(one), p.Z2, p.Z3),
            new(p.S, p.A, p.Y.Span, p.D, p.Z1.Add(Curve.Order), p.Z2, p.Z3),
            new(p.S, p.A, p.Y.Span, p.D, p.Z1, p.Z2.Add(one), p.Z3),
            new(p.S, p.A, p.Y.Span, p.D, p.Z1, p.Z2, p.Z3.Add(one)),
            new(p.S, p.A, p.Y.Span, p.D, p.Z1, BigInteger.Zero, p.Z3),
        ];
        foreach (EncryptedDlogProof proof in tampered)
        {
            AssertRejected(MpcErrorCode.ProofFailed, () => Verify(proof));
        }
        // Y that is not a point at all: the point decoder refuses it.
        byte[] garbage = (byte[])otherY.Clone();
        garbage[0] = 0x04;
        AssertRejected(MpcErrorCode.InvalidPoint, () => Verify(new EncryptedDlogProof(p.S, p.A, garbage, p.D, p.Z1, p.Z2, p.Z3)));
    }

    [Fact]
    public void WrongDiscreteLogIsRejected()
    {
        ECPoint other = fixture.SharePoint.Add(Curve.G).Normalize();
        AssertRejected(MpcErrorCode.ProofFailed, () =>
            Proof.Verify(Curve, PublicKey, fixture.ShareCiphertext, other, Parameters, fixture.ServerContext));
    }

    [Fact]
    public void OutOfRangePlaintextIsRejected()
    {
        // x' = x + q·2^800 has the same discrete log as x but is far outside the range: the range check fails.
        BigInteger x = fixture.Share.Add(Curve.Order.ShiftLeft(800));
        BigInteger nonce = PublicKey.RandomUnit();
        BigInteger c = fixture.Key.EncryptWithNonce(x, nonce);
        EncryptedDlogProof proof = EncryptedDlogProof.Prove(Curve, fixture.Key, c, x, nonce, Parameters, fixture.ServerContext);
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(() =>
            proof.Verify(Curve, PublicKey, c, fixture.SharePoint, Parameters, fixture.ServerContext));
        Assert.Equal(MpcErrorCode.ProofFailed, e.Code);
        Assert.Contains("range check", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CiphertextOutsideTheGroupIsRejected()
    {
        BigInteger[] invalid = [BigInteger.Zero, PublicKey.N, PublicKey.NSquared, PublicKey.NSquared.Add(fixture.ShareCiphertext)];
        foreach (BigInteger c in invalid)
        {
            AssertRejected(MpcErrorCode.InvalidCiphertext, () =>
                Proof.Verify(Curve, PublicKey, c, fixture.SharePoint, Parameters, fixture.ServerContext));
        }
        // A different valid ciphertext of the same share (another nonce) is another statement.
        BigInteger rerandomised = fixture.Key.EncryptWithNonce(fixture.Share, PublicKey.RandomUnit());
        AssertRejected(MpcErrorCode.ProofFailed, () =>
            Proof.Verify(Curve, PublicKey, rerandomised, fixture.SharePoint, Parameters, fixture.ServerContext));
    }

    [Fact]
    public void ProverRefusesAMismatchedStatement() =>
        Assert.Throws<ArgumentException>(() => EncryptedDlogProof.Prove(
            Curve, fixture.Key, fixture.ShareCiphertext, fixture.Share.Add(BigInteger.One), fixture.Nonce, Parameters, fixture.ServerContext));

    [Fact]
    public void ProofUnderAnotherContextIsRejected()
    {
        ProofContext context = fixture.ServerContext;
        AssertRejected(MpcErrorCode.ProofFailed, () => Verify(Proof, OtherSession(context)));
        AssertRejected(MpcErrorCode.ProofFailed, () => Verify(Proof, context.ForProver(PartyRole.Client)));
        AssertRejected(MpcErrorCode.ProofFailed, () => Verify(Proof, OtherKeyId(context)));
    }

    [Fact]
    public void ContextForAnotherCurveIsRejected()
    {
        var p256 = new ProofContext(fixture.ServerContext.SessionId, PartyRole.Server, "key-1", CurveKind.P256);
        AssertRejected(MpcErrorCode.ProofFailed, () => Verify(Proof, p256));
    }

    [Fact]
    public void ReadFromRejectsMalformedInput()
    {
        byte[] bytes = Encode(Proof.WriteTo);
        AssertRejected(MpcErrorCode.MalformedMessage, () =>
        {
            var reader = new WireReader(bytes.AsSpan(0, bytes.Length - 3));
            EncryptedDlogProof.ReadFrom(ref reader, Curve);
        });
        EncryptedDlogProof p = Proof;
        byte[] hugeZ1 = Encode(new EncryptedDlogProof(p.S, p.A, p.Y.Span, p.D, p.Z1.ShiftLeft(100), p.Z2, p.Z3).WriteTo);
        AssertRejected(MpcErrorCode.MalformedMessage, () =>
        {
            var reader = new WireReader(hugeZ1);
            EncryptedDlogProof.ReadFrom(ref reader, Curve);
        });
    }
}
