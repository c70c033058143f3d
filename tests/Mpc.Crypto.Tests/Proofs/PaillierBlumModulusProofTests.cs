using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using static Mpc.Crypto.Tests.Proofs.ProofFixture;

namespace Mpc.Crypto.Tests.Proofs;

[Collection(ProofCollection.Name)]
public sealed class PaillierBlumModulusProofTests(ProofFixture fixture)
{
    private PaillierBlumModulusProof Proof => fixture.ModulusProof;

    private PaillierPublicKey PublicKey => fixture.Key.PublicKey;

    private BigInteger N => PublicKey.N;

    [Fact]
    public void HonestProofVerifies()
    {
        Assert.Equal(ProofParameters.BinaryChallengeRounds, Proof.Rounds.Count);
        Assert.Equal(-1, ProofMath.Jacobi(Proof.W, N));
        Proof.Verify(PublicKey, fixture.ServerContext);
    }

    [Fact]
    public void WireRoundTripVerifies()
    {
        byte[] bytes = Encode(Proof.WriteTo);
        var reader = new WireReader(bytes);
        PaillierBlumModulusProof decoded = PaillierBlumModulusProof.ReadFrom(ref reader);
        reader.EnsureEnd("Πmod");
        decoded.Verify(PublicKey, fixture.ServerContext);
        Assert.Equal(bytes, Encode(decoded.WriteTo));
    }

    [Fact]
    public void TamperedRoundsAreRejected()
    {
        PaillierBlumModulusProof.Round round = Proof.Rounds[7];
        PaillierBlumModulusProof.Round[] variants =
        [
            round with { X = round.X.Add(BigInteger.One) },
            round with { X = N.Subtract(round.X) }, // (-x)^4 = x^4: still passes, so pair it with a flipped bit below
            round with { Z = round.Z.Add(BigInteger.One) },
            round with { A = !round.A },
            round with { B = !round.B },
            round with { X = BigInteger.Zero },
            round with { Z = N },
        ];
        Proof.Verify(PublicKey, fixture.ServerContext); // sanity
        foreach (PaillierBlumModulusProof.Round variant in variants.Where((_, i) => i != 1))
        {
            var tampered = new PaillierBlumModulusProof(Proof.W, Replace(Proof.Rounds, 7, variant));
            AssertRejected(MpcErrorCode.ProofFailed, () => tampered.Verify(PublicKey, fixture.ServerContext));
        }
        // The other fourth root is equally valid: the proof is about N, not about the choice of root.
        new PaillierBlumModulusProof(Proof.W, Replace(Proof.Rounds, 7, variants[1])).Verify(PublicKey, fixture.ServerContext);
    }

    [Fact]
    public void TamperedWIsRejected()
    {
        // 4w keeps the Jacobi symbol -1 but changes every challenge and every fourth-root equation.
        var sameSymbol = new PaillierBlumModulusProof(BigInteger.Four.Multiply(Proof.W).Mod(N), Proof.Rounds);
        AssertRejected(MpcErrorCode.ProofFailed, () => sameSymbol.Verify(PublicKey, fixture.ServerContext));
        var residue = new PaillierBlumModulusProof(BigInteger.Four, Proof.Rounds);
        AssertRejected(MpcErrorCode.ProofFailed, () => residue.Verify(PublicKey, fixture.ServerContext));
        var outOfRange = new PaillierBlumModulusProof(Proof.W.Add(N), Proof.Rounds);
        AssertRejected(MpcErrorCode.ProofFailed, () => outOfRange.Verify(PublicKey, fixture.ServerContext));
    }

    [Fact]
    public void ProofUnderAnotherContextIsRejected()
    {
        ProofContext context = fixture.ServerContext;
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(PublicKey, OtherSession(context)));
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(PublicKey, context.ForProver(PartyRole.Client)));
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(PublicKey, OtherKeyId(context)));
    }

    [Fact]
    public void NonBlumModulusIsRejected()
    {
        PaillierPrivateKey key = fixture.NonBlumKey;
        AssertRejected(MpcErrorCode.InvalidPaillierModulus, () => PaillierBlumModulusProof.Prove(key, fixture.ServerContext));
        // The honest algorithm run anyway on p ≡ q ≡ 1 (mod 4): about half of the challenges have no fourth root.
        PaillierBlumModulusProof attempt = PaillierBlumModulusProof.ProveCore(key, fixture.ServerContext);
        AssertRejected(MpcErrorCode.ProofFailed, () => attempt.Verify(key.PublicKey, fixture.ServerContext));
    }

    [Fact]
    public void PrimeModulusIsRejected()
    {
        var primeKey = new PaillierPublicKey(fixture.Backend.GeneratePrime(2048, blum: true), fixture.Backend);
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(primeKey, fixture.ServerContext));
    }

    [Fact]
    public void ProofForAnotherModulusIsRejected()
    {
        var other = new PaillierPublicKey(N.Add(BigInteger.Two), fixture.Backend);
        AssertRejected(MpcErrorCode.ProofFailed, () => Proof.Verify(other, fixture.ServerContext));
    }

    [Fact]
    public void ReadFromRejectsMalformedInput()
    {
        byte[] bytes = Encode(Proof.WriteTo);
        AssertRejected(MpcErrorCode.MalformedMessage, () =>
        {
            var reader = new WireReader(bytes.AsSpan(0, bytes.Length / 2));
            PaillierBlumModulusProof.ReadFrom(ref reader);
        });
        byte[] fewer = Encode(new PaillierBlumModulusProof(Proof.W, Proof.Rounds.Take(80).ToList()).WriteTo);
        AssertRejected(MpcErrorCode.MalformedMessage, () =>
        {
            var reader = new WireReader(fewer);
            PaillierBlumModulusProof.ReadFrom(ref reader);
        });
        PaillierBlumModulusProof.Round first = Proof.Rounds[0];
        byte[] badBit = Encode(w =>
        {
            w.WriteBigInteger(Proof.W);
            w.WriteList(Proof.Rounds, (ww, round) => ww
                .WriteBigInteger(round.X)
                .WriteBytes([ReferenceEquals(round, first) ? (byte)2 : (byte)0])
                .WriteBytes([0])
                .WriteBigInteger(round.Z));
        });
        AssertRejected(MpcErrorCode.MalformedMessage, () =>
        {
            var reader = new WireReader(badBit);
            PaillierBlumModulusProof.ReadFrom(ref reader);
        });
        AssertRejected(MpcErrorCode.MalformedMessage, () =>
        {
            var reader = new WireReader(bytes);
            PaillierBlumModulusProof.ReadFrom(ref reader, maxModulusBits: 1024);
        });
        var shortProof = new PaillierBlumModulusProof(Proof.W, Proof.Rounds.Take(80).ToList());
        AssertRejected(MpcErrorCode.ProofFailed, () => shortProof.Verify(PublicKey, fixture.ServerContext));
    }

    [Fact]
    public void JacobiSymbolMatchesEulerCriterionOnSmallPrimes()
    {
        int[] primes = [3, 5, 7, 11, 13, 101, 7919];
        foreach (int p in primes)
        {
            for (int a = 0; a < 40; a++)
            {
                BigInteger bp = BigInteger.ValueOf(p);
                BigInteger euler = BigInteger.ValueOf(a).ModPow(bp.ShiftRight(1), bp);
                int expected = euler.SignValue == 0 ? 0 : euler.Equals(BigInteger.One) ? 1 : -1;
                Assert.Equal(expected, ProofMath.Jacobi(BigInteger.ValueOf(a), bp));
            }
        }
        // Multiplicative in the modulus: (a/15) = (a/3)(a/5).
        for (int a = 0; a < 30; a++)
        {
            BigInteger ba = BigInteger.ValueOf(a);
            Assert.Equal(ProofMath.Jacobi(ba, BigInteger.Three) * ProofMath.Jacobi(ba, BigInteger.ValueOf(5)), ProofMath.Jacobi(ba, BigInteger.ValueOf(15)));
        }
    }
}
