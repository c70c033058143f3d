using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using static Mpc.Crypto.Tests.Proofs.ProofFixture;

namespace Mpc.Crypto.Tests.Proofs;

/// <summary>The batched check z_i^N ≡ y_i of Πmod (docs/protocol.md, "Batch verification of Πmod").</summary>
[Collection(ProofCollection.Name)]
public sealed class PaillierBlumModulusBatchTests(ProofFixture fixture)
{
    private PaillierBlumModulusProof Proof => fixture.ModulusProof;

    private PaillierPublicKey PublicKey => fixture.Key.PublicKey;

    private IBigNumBackend Backend => fixture.Backend;

    [Fact]
    public void HonestProofPassesBatchedAndRoundByRound()
    {
        Proof.Verify(PublicKey, fixture.ServerContext);
        Proof.VerifyEachRound(PublicKey, fixture.ServerContext);
    }

    [Fact]
    public void OneTamperedRootIsRefusedAtAnyPosition()
    {
        int[] positions = [.. Enumerable.Range(0, ProofParameters.BinaryChallengeRounds).Where(i => i % 9 == 0 || i == ProofParameters.BinaryChallengeRounds - 1)];
        foreach (int position in positions)
        {
            PaillierBlumModulusProof.Round round = Proof.Rounds[position];
            var tampered = new PaillierBlumModulusProof(Proof.W, Replace(Proof.Rounds, position, round with { Z = round.Z.Add(BigInteger.One).Mod(PublicKey.N) }));
            AssertRejected(MpcErrorCode.ProofFailed, () => tampered.Verify(PublicKey, fixture.ServerContext));
            MpcProtocolException refusal = Assert.Throws<MpcProtocolException>(() => tampered.VerifyEachRound(PublicKey, fixture.ServerContext));
            Assert.Contains($"z[{position}]^N", refusal.Message);
        }
    }

    [Fact]
    public void ChallengeWithoutAnNthRootIsRefused()
    {
        // N = p·q with p | q - 1: x ↦ x^N is not onto, and g with g^((q-1)/p) ≢ 1 (mod q) is no N-th power. Its class
        // in Z*_N / (Z*_N)^N has order p ≈ 2^160 > 2^128, so the batch misses it with probability below 2^-128.
        (BigInteger n, BigInteger p, BigInteger q) = ModulusWhoseNthPowersAreASubgroup();
        BigInteger[] roots = [.. Enumerable.Range(0, 16).Select(_ => RandomUnit(n))];
        BigInteger[] targets = [.. roots.Select(z => z.ModPow(n, n))];
        Assert.True(PaillierBlumModulusProof.RootsHoldInBatch(Backend, roots, targets, n));
        BigInteger cofactor = q.Subtract(BigInteger.One).Divide(p);
        BigInteger nonPower;
        do
        {
            nonPower = RandomUnit(n);
        }
        while (nonPower.ModPow(cofactor, q).Equals(BigInteger.One));
        foreach (int position in new[] { 0, 7, 15 })
        {
            BigInteger[] bad = [.. targets];
            bad[position] = targets[position].Multiply(nonPower).Mod(n);
            Assert.False(PaillierBlumModulusProof.RootsHoldInBatch(Backend, roots, bad, n));
            // The statement itself is false: no root exists for the changed target, whatever z the prover sends.
            Assert.NotEqual(BigInteger.One, bad[position].ModPow(cofactor, q));
        }
    }

    [Fact]
    public void SmallOrderFactorsOnARootDoNotMatterToTheStatement()
    {
        // z·(-1) is not an N-th root of y, but y still has one: the batch works in Z*_N / (Z*_N)^N, where -1 = (-1)^N is
        // trivial, so it passes when r_i is even. Only whether y_i has a root matters to Πmod (docs/protocol.md).
        BigInteger n = PublicKey.N;
        BigInteger[] roots = [.. Proof.Rounds.Take(8).Select(r => r.Z)];
        BigInteger[] targets = [.. roots.Select(z => z.ModPow(n, n))];
        roots[3] = n.Subtract(roots[3]);
        int passes = Enumerable.Range(0, 48).Count(_ => PaillierBlumModulusProof.RootsHoldInBatch(Backend, roots, targets, n));
        Assert.InRange(passes, 1, 47);
    }

    [Fact]
    public void ModulusWithASmallPrimeFactorIsRefused()
    {
        BigInteger small = BigInteger.ValueOf(4091);
        BigInteger n;
        do
        {
            n = small.Multiply(Backend.GeneratePrime(2036, blum: true));
        }
        while (n.BitLength != 2048);
        var key = new PaillierPublicKey(n, Backend);
        MpcProtocolException refusal = Assert.Throws<MpcProtocolException>(() => Proof.Verify(key, fixture.ServerContext));
        Assert.Equal(MpcErrorCode.ProofFailed, refusal.Code);
        Assert.Contains("prime factor below", refusal.Message);
        Assert.False(ProofMath.HasNoSmallPrimeFactor(BigInteger.ValueOf(3).Multiply(PublicKey.N)));
        Assert.True(ProofMath.HasNoSmallPrimeFactor(PublicKey.N));
    }

    [Fact]
    public void ProductOfPowersMatchesTheDefinition()
    {
        BigInteger n = PublicKey.N;
        BigInteger[] bases = [.. Enumerable.Range(0, 20).Select(_ => RandomUnit(n))];
        BigInteger[] exponents = [.. Enumerable.Range(0, 20).Select(i => new BigInteger(i == 3 ? 1 : 128, new Org.BouncyCastle.Security.SecureRandom()))];
        BigInteger expected = BigInteger.One;
        for (int i = 0; i < bases.Length; i++)
        {
            expected = expected.Multiply(bases[i].ModPow(exponents[i], n)).Mod(n);
        }
        Assert.Equal(expected, ProofMath.ProductOfPowers(Backend, bases, exponents, n));
    }

    private (BigInteger N, BigInteger P, BigInteger Q) ModulusWhoseNthPowersAreASubgroup()
    {
        var random = new Org.BouncyCastle.Security.SecureRandom();
        BigInteger p = Backend.GeneratePrime(160, blum: true);
        while (true)
        {
            BigInteger k = new BigInteger(860, random).SetBit(859);
            BigInteger q = k.Multiply(p).ShiftLeft(1).Add(BigInteger.One);
            if (Backend.IsProbablePrime(q))
            {
                return (p.Multiply(q), p, q);
            }
        }
    }

    private static BigInteger RandomUnit(BigInteger n) => PaillierPublicKey.RandomUnit(n);
}
