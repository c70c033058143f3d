using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using Xunit.Abstractions;
using static Mpc.Crypto.Tests.Proofs.ProofFixture;

namespace Mpc.Crypto.Tests.Proofs;

[Collection(ProofCollection.Name)]
public sealed class RingPedersenProofTests(ProofFixture fixture, ITestOutputHelper output)
{
    private RingPedersenProof Proof => fixture.RingPedersenProof;

    private RingPedersenParameters Parameters => fixture.Parameters;

    [Fact]
    public void HonestProofVerifies()
    {
        foreach (string timing in fixture.Timings)
        {
            output.WriteLine(timing);
        }
        Parameters.Validate();
        Assert.Equal(2048, Parameters.N.BitLength);
        Proof.Verify(Parameters, fixture.ClientContext, fixture.Backend);
    }

    [Fact]
    public void WireRoundTripVerifies()
    {
        byte[] bytes = Encode(w =>
        {
            Parameters.WriteTo(w);
            Proof.WriteTo(w);
        });
        var reader = new WireReader(bytes);
        RingPedersenParameters parameters = RingPedersenParameters.ReadFrom(ref reader);
        RingPedersenProof proof = RingPedersenProof.ReadFrom(ref reader);
        reader.EnsureEnd("Πprm message");
        Assert.Equal(Parameters, parameters);
        proof.Verify(parameters, fixture.ClientContext, fixture.Backend);
    }

    [Fact]
    public void TamperedResponseIsRejected()
    {
        var tampered = new RingPedersenProof(Proof.Commitments, Replace(Proof.Responses, 5, Proof.Responses[5].Add(BigInteger.One)));
        AssertRejected(MpcErrorCode.ProofFailed, () => tampered.Verify(Parameters, fixture.ClientContext, fixture.Backend));
    }

    [Fact]
    public void TamperedCommitmentIsRejected()
    {
        BigInteger changed = Proof.Commitments[3].Multiply(Parameters.T).Mod(Parameters.N);
        var tampered = new RingPedersenProof(Replace(Proof.Commitments, 3, changed), Proof.Responses);
        AssertRejected(MpcErrorCode.ProofFailed, () => tampered.Verify(Parameters, fixture.ClientContext, fixture.Backend));
    }

    [Fact]
    public void NonUnitCommitmentIsRejected()
    {
        var tampered = new RingPedersenProof(Replace(Proof.Commitments, 0, BigInteger.Zero), Proof.Responses);
        AssertRejected(MpcErrorCode.ProofFailed, () => tampered.Verify(Parameters, fixture.ClientContext, fixture.Backend));
    }

    [Fact]
    public void SOutsideTheSubgroupOfTIsRejected()
    {
        // A random s the prover knows no λ for: with 128 binary challenges the proof no longer holds.
        var forged = new RingPedersenParameters(Parameters.N, PaillierPublicKey.RandomUnit(Parameters.N), Parameters.T);
        forged.Validate();
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(forged, fixture.ClientContext, fixture.Backend));
    }

    [Fact]
    public void ProofUnderAnotherContextIsRejected()
    {
        ProofContext context = fixture.ClientContext;
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(Parameters, OtherSession(context), fixture.Backend));
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(Parameters, context.ForProver(PartyRole.Server), fixture.Backend));
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(Parameters, OtherKeyId(context), fixture.Backend));
    }

    [Fact]
    public void ParametersBelow2048BitsAreRejected()
    {
        using RingPedersenSecret small = RingPedersenSecret.GenerateUnchecked(fixture.Backend, 1024);
        AssertRejected(MpcErrorCode.InvalidRingPedersenParameters, () => RingPedersenProof.Prove(small, fixture.ClientContext));
        RingPedersenProof proof = RingPedersenProof.ProveCore(small, fixture.ClientContext);
        AssertRejected(MpcErrorCode.InvalidRingPedersenParameters, () => proof.Verify(small.Parameters, fixture.ClientContext, fixture.Backend));
        AssertRejected(MpcErrorCode.InvalidRingPedersenParameters, () => RingPedersenSecret.Generate(fixture.Backend, 1024));
    }

    [Fact]
    public void ValidateRejectsDegenerateValues()
    {
        BigInteger n = Parameters.N, s = Parameters.S, t = Parameters.T;
        AssertRejected(MpcErrorCode.InvalidRingPedersenParameters, () => new RingPedersenParameters(n.Add(BigInteger.One), s, t).Validate());
        AssertRejected(MpcErrorCode.InvalidRingPedersenParameters, () => new RingPedersenParameters(n, BigInteger.One, t).Validate());
        AssertRejected(MpcErrorCode.InvalidRingPedersenParameters, () => new RingPedersenParameters(n, n.Subtract(BigInteger.One), t).Validate());
        AssertRejected(MpcErrorCode.InvalidRingPedersenParameters, () => new RingPedersenParameters(n, s, BigInteger.Zero).Validate());
        AssertRejected(MpcErrorCode.InvalidRingPedersenParameters, () => new RingPedersenParameters(n, t, t).Validate());
        AssertRejected(MpcErrorCode.InvalidRingPedersenParameters, () => new RingPedersenParameters(n, fixture.RingPedersen.P, t).Validate());
        AssertRejected(MpcErrorCode.InvalidRingPedersenParameters, () => new RingPedersenParameters(n.ShiftLeft(2049).Add(BigInteger.One), s, t).Validate());
    }

    [Fact]
    public void ReadFromRejectsTruncationAndWrongRoundCount()
    {
        byte[] bytes = Encode(Proof.WriteTo);
        AssertRejected(MpcErrorCode.MalformedMessage, () =>
        {
            var reader = new WireReader(bytes.AsSpan(0, bytes.Length - 10));
            RingPedersenProof.ReadFrom(ref reader);
        });
        byte[] short127 = Encode(w =>
        {
            w.WriteList(Proof.Commitments.Take(127).ToList(), static (ww, a) => ww.WriteBigInteger(a));
            w.WriteList(Proof.Responses.Take(127).ToList(), static (ww, z) => ww.WriteBigInteger(z));
        });
        AssertRejected(MpcErrorCode.MalformedMessage, () =>
        {
            var reader = new WireReader(short127);
            RingPedersenProof.ReadFrom(ref reader);
        });
        // Constructed directly (not decoded), a short proof is refused by verification.
        var shortProof = new RingPedersenProof(Proof.Commitments.Take(80).ToList(), Proof.Responses.Take(80).ToList());
        AssertRejected(MpcErrorCode.ProofFailed, () => shortProof.Verify(Parameters, fixture.ClientContext, fixture.Backend));
    }

    [Fact]
    public void ToStringPrintsNoSecret()
    {
        string text = fixture.RingPedersen.ToString() + Proof + Parameters;
        Assert.DoesNotContain(fixture.RingPedersen.P.ToString(), text, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.RingPedersen.Lambda.ToString(), text, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.RingPedersen.Phi.ToString(), text, StringComparison.Ordinal);
    }
}
