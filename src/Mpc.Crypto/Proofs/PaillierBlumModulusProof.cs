using Mpc.Crypto.BigNum;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// Πmod (CGGMP21, fig. 16): the Paillier modulus N is a Paillier–Blum modulus — N = p·q with p ≡ q ≡ 3 (mod 4)
/// and gcd(N, φ(N)) = 1. Proved by the Paillier key owner (the server, P1). Part of the BitForge defence,
/// together with <see cref="NoSmallFactorProof"/>. <see cref="ProofParameters.BinaryChallengeRounds"/> rounds.
/// </summary>
public sealed class PaillierBlumModulusProof
{
    public const string Name = "Πmod";
    private const string Purpose = "paillier-blum-modulus/Πmod";

    public PaillierBlumModulusProof(BigInteger w, IReadOnlyList<Round> rounds)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(rounds);
        W = w;
        Rounds = [.. rounds];
    }

    /// <summary>One round for challenge y_i: x_i⁴ ≡ (-1)^a·w^b·y_i and z_i^N ≡ y_i (mod N).</summary>
    public sealed record Round(BigInteger X, bool A, bool B, BigInteger Z)
    {
        public override string ToString() => $"Round(a={(A ? 1 : 0)}, b={(B ? 1 : 0)})";
    }

    /// <summary>w with Jacobi symbol (w/N) = -1.</summary>
    public BigInteger W { get; }

    public IReadOnlyList<Round> Rounds { get; }

    /// <summary>Proves the key's modulus is Paillier–Blum; refuses (InvalidPaillierModulus) a key whose primes are not ≡ 3 (mod 4).</summary>
    public static PaillierBlumModulusProof Prove(PaillierPrivateKey key, ProofContext context)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!key.P.TestBit(1) || !key.Q.TestBit(1))
        {
            throw Error.Of(MpcErrorCode.InvalidPaillierModulus, "Πmod: the Paillier primes are not both ≡ 3 (mod 4).");
        }
        return ProveCore(key, context);
    }

    /// <summary>
    /// The prover's algorithm without the Blum precondition: for a malformed key it still produces an attempt
    /// (some rounds have no valid fourth root), which tests feed to <see cref="Verify"/>.
    /// </summary>
    internal static PaillierBlumModulusProof ProveCore(PaillierPrivateKey key, ProofContext context)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(context);
        BigInteger n = key.PublicKey.N;
        BigInteger p = key.P, q = key.Q;
        IBigNumBackend backend = key.PublicKey.Backend;
        BigInteger qInverseModP = q.ModInverse(p);
        BigInteger pMinus1 = p.Subtract(BigInteger.One), qMinus1 = q.Subtract(BigInteger.One);

        BigInteger w;
        do
        {
            w = PaillierPublicKey.RandomUnit(n);
        }
        while (ProofMath.Jacobi(w, n) != -1);

        BigInteger minusOne = n.Subtract(BigInteger.One);
        // Fourth roots of quadratic residues modulo a prime ≡ 3 (mod 4): r^(((p+1)/4)²), which is itself a residue.
        BigInteger rootP = Square(p.Add(BigInteger.One).ShiftRight(2)).Mod(pMinus1);
        BigInteger rootQ = Square(q.Add(BigInteger.One).ShiftRight(2)).Mod(qMinus1);
        BigInteger nInverseP, nInverseQ;
        try
        {
            nInverseP = n.Mod(pMinus1).ModInverse(pMinus1);
            nInverseQ = n.Mod(qMinus1).ModInverse(qMinus1);
        }
        catch (ArithmeticException)
        {
            throw Error.Of(MpcErrorCode.InvalidPaillierModulus, "Πmod: gcd(N, φ(N)) ≠ 1.");
        }

        Transcript transcript = StartTranscript(n, w, context);
        // The challenges come from the transcript in order; the per-round root extraction is independent and runs on all cores.
        BigInteger[] challenges = new BigInteger[ProofParameters.BinaryChallengeRounds];
        for (int i = 0; i < challenges.Length; i++)
        {
            challenges[i] = transcript.ChallengeBelow(ChallengeLabel(i), n);
        }
        // Per prime, one batch: y_i^e (the fourth root of y_i if it is one, and its Legendre symbol) and y_i^(N⁻¹). The
        // fourth root of the adjusted (−1)^a·w^b·y_i is then (−1)^(a·e)·(w^e)^b·y_i^e: exponentiation is multiplicative,
        // so (a_i, b_i) can be chosen after the powers.
        int m = challenges.Length;
        BlumPrimeArithmetic.PrimeHalves halvesP = BlumPrimeArithmetic.Compute(backend, challenges, minusOne, w, rootP, nInverseP, p);
        BlumPrimeArithmetic.PrimeHalves halvesQ = BlumPrimeArithmetic.Compute(backend, challenges, minusOne, w, rootQ, nInverseQ, q);
        var rounds = new Round[m];
        for (int i = 0; i < m; i++)
        {
            bool a = false, b = false;
            for (int candidate = 0; candidate < 4; candidate++)
            {
                bool ca = (candidate & 1) == 1, cb = (candidate & 2) == 2;
                int sp = halvesP.Legendres[i] * (ca ? halvesP.MinusOneLegendre : 1) * (cb ? halvesP.WLegendre : 1);
                int sq = halvesQ.Legendres[i] * (ca ? halvesQ.MinusOneLegendre : 1) * (cb ? halvesQ.WLegendre : 1);
                if (sp == 1 && sq == 1)
                {
                    (a, b) = (ca, cb);
                    break;
                }
            }
            BigInteger xP = AdjustRoot(backend, halvesP.FourthRoots[i], halvesP.MinusOneRoot, halvesP.WRoot, a, b, p);
            BigInteger xQ = AdjustRoot(backend, halvesQ.FourthRoots[i], halvesQ.MinusOneRoot, halvesQ.WRoot, a, b, q);
            BigInteger x = ProofMath.Crt(backend, xP, p, xQ, q, qInverseModP);
            BigInteger z = ProofMath.Crt(backend, halvesP.NthRoots[i], p, halvesQ.NthRoots[i], q, qInverseModP);
            rounds[i] = new Round(x, a, b, z);
        }
        return new PaillierBlumModulusProof(w, rounds);
    }

    /// <summary>
    /// Verifies the proof for <paramref name="key"/>'s modulus; throws <see cref="MpcProtocolException"/> on any failure.
    /// The 128 checks z_i^N ≡ y_i are batched (one random linear combination, see docs/protocol.md, "Batch
    /// verification of Πmod"): sound only for a modulus whose no-small-factor proof (Πfac) was verified
    /// BEFORE this call. The x_i⁴ checks stay per round.
    /// </summary>
    public void Verify(PaillierPublicKey key, ProofContext context)
    {
        BigInteger[] challenges = CheckAllButRoots(key, context);
        BigInteger n = key.N;
        BigInteger[] roots = [.. Rounds.Select(round => round.Z)];
        if (!RootsHoldInBatch(key.Backend, roots, challenges, n))
        {
            throw Error.ProofFailed(Name, "(∏ z_i^r_i)^N ≢ ∏ y_i^r_i (mod N): some z_i^N ≢ y_i");
        }
    }

    /// <summary>
    /// The batch check (∏ z_i^r_i)^N ≡ ∏ y_i^r_i (mod N) with fresh r_i ∈ [0, 2^128) from the verifier's own CSPRNG,
    /// drawn after the proof is fixed, so the prover cannot anticipate them. One exponentiation with exponent N
    /// and 2×128 with 128-bit exponents instead of 128 with exponent N.
    /// </summary>
    internal static bool RootsHoldInBatch(IBigNumBackend backend, IReadOnlyList<BigInteger> roots, IReadOnlyList<BigInteger> targets, BigInteger n)
    {
        var weights = new BigInteger[roots.Count];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = ProofRandom.Below(BigInteger.One.ShiftLeft(BatchWeightBits));
        }
        BigInteger left = backend.ModPow(ProofMath.ProductOfPowers(backend, roots, weights, n), n, n);
        BigInteger right = ProofMath.ProductOfPowers(backend, targets, weights, n);
        return left.Equals(right);
    }

    /// <summary>
    /// Verifies every round on its own (z_i^N ≡ y_i one by one, on all cores): 128 full exponentiations, no
    /// precondition. Tests and benchmarks compare it with the batched <see cref="Verify"/>.
    /// </summary>
    internal void VerifyEachRound(PaillierPublicKey key, ProofContext context)
    {
        BigInteger[] challenges = CheckAllButRoots(key, context);
        BigInteger n = key.N;
        int failed = ProofParallel.FirstFailure(challenges.Length, i => key.Backend.ModPow(Rounds[i].Z, n, n).Equals(challenges[i]));
        if (failed >= 0)
        {
            throw Error.ProofFailed(Name, $"z[{failed}]^N ≢ y[{failed}] (mod N)");
        }
    }

    /// <summary>Bits of each batch weight r_i: a y_i without an N-th root passes with probability at most 2^-128.</summary>
    internal const int BatchWeightBits = 128;

    /// <summary>Everything except z_i^N ≡ y_i; returns the challenges y_i.</summary>
    private BigInteger[] CheckAllButRoots(PaillierPublicKey key, ProofContext context)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(context);
        BigInteger n = key.N;
        IBigNumBackend backend = key.Backend;
        if (n.CompareTo(BigInteger.One) <= 0 || !n.TestBit(0))
        {
            throw Error.ProofFailed(Name, "N is not an odd integer greater than one");
        }
        if (!ProofMath.HasNoSmallPrimeFactor(n))
        {
            throw Error.ProofFailed(Name, $"N has a prime factor below {ProofMath.SmallPrimeBound}");
        }
        if (backend.IsProbablePrime(n))
        {
            throw Error.ProofFailed(Name, "N is prime");
        }
        if (Rounds.Count != ProofParameters.BinaryChallengeRounds)
        {
            throw Error.ProofFailed(Name, $"round count is not {ProofParameters.BinaryChallengeRounds}");
        }
        if (!ProofMath.IsUnitBelow(W, n))
        {
            throw Error.ProofFailed(Name, "w is not a unit in [1, N)");
        }
        if (ProofMath.Jacobi(W, n) != -1)
        {
            throw Error.ProofFailed(Name, "Jacobi symbol of w is not -1");
        }
        Transcript transcript = StartTranscript(n, W, context);
        var challenges = new BigInteger[Rounds.Count];
        for (int i = 0; i < Rounds.Count; i++)
        {
            Round round = Rounds[i];
            challenges[i] = transcript.ChallengeBelow(ChallengeLabel(i), n);
            if (round.X.SignValue <= 0 || round.X.CompareTo(n) >= 0)
            {
                throw Error.ProofFailed(Name, $"x[{i}] is outside [1, N)");
            }
            if (round.Z.SignValue <= 0 || round.Z.CompareTo(n) >= 0)
            {
                throw Error.ProofFailed(Name, $"z[{i}] is outside [1, N)");
            }
        }
        for (int i = 0; i < Rounds.Count; i++)
        {
            Round round = Rounds[i];
            BigInteger x2 = backend.ModMultiply(round.X, round.X, n);
            if (!backend.ModMultiply(x2, x2, n).Equals(Adjust(backend, challenges[i], W, round.A, round.B, n)))
            {
                throw Error.ProofFailed(Name, $"x[{i}]^4 ≢ (-1)^a·w^b·y[{i}] (mod N)");
            }
        }
        return challenges;
    }

    public void WriteTo(WireWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteBigInteger(W);
        w.WriteList(Rounds, static (ww, round) => ww
            .WriteBigInteger(round.X)
            .WriteBytes([round.A ? (byte)1 : (byte)0])
            .WriteBytes([round.B ? (byte)1 : (byte)0])
            .WriteBigInteger(round.Z));
    }

    /// <summary>Reads a proof for a modulus of at most <paramref name="maxModulusBits"/> bits; exactly 128 rounds.</summary>
    public static PaillierBlumModulusProof ReadFrom(ref WireReader r, int maxModulusBits = PaillierPublicKey.MaximumModulusBits)
    {
        BigInteger w = r.ReadBigInteger("Πmod w", maxModulusBits);
        IReadOnlyList<Round> rounds = r.ReadList("Πmod rounds", ProofParameters.BinaryChallengeRounds, (ref WireReader rr) =>
        {
            BigInteger x = rr.ReadBigInteger("Πmod x", maxModulusBits);
            bool a = ReadBit(ref rr, "Πmod a");
            bool b = ReadBit(ref rr, "Πmod b");
            BigInteger z = rr.ReadBigInteger("Πmod z", maxModulusBits);
            return new Round(x, a, b, z);
        });
        return new PaillierBlumModulusProof(w, rounds);
    }

    public override string ToString() => $"PaillierBlumModulusProof({Rounds.Count} rounds)";

    private static bool ReadBit(ref WireReader r, string field)
    {
        byte[] value = r.ReadByteArray(field, exactLength: 1);
        return value[0] switch
        {
            0 => false,
            1 => true,
            _ => throw Error.Malformed($"{field} must be 0 or 1"),
        };
    }

    private static Transcript StartTranscript(BigInteger n, BigInteger w, ProofContext context) =>
        Transcript.Start(Purpose, context)
            .Append("Πmod/N", n)
            .Append("Πmod/w", w)
            .Append("Πmod/rounds", (uint)ProofParameters.BinaryChallengeRounds);

    private static string ChallengeLabel(int i) => $"Πmod/y[{i}]";

    /// <summary>(-1)^a·w^b·y mod N.</summary>
    private static BigInteger Adjust(IBigNumBackend backend, BigInteger y, BigInteger w, bool a, bool b, BigInteger n)
    {
        BigInteger value = b ? backend.ModMultiply(y, w, n) : y;
        // value is in [0, N): its negative is N − value, except for 0.
        return a && value.SignValue != 0 ? n.Subtract(value) : value;
    }

    /// <summary>((−1)^a·w^b·y)^e mod p from y^e, (−1)^e and w^e.</summary>
    private static BigInteger AdjustRoot(IBigNumBackend backend, BigInteger root, BigInteger minusOneRoot, BigInteger wRoot, bool a, bool b, BigInteger prime)
    {
        BigInteger value = a ? backend.ModMultiply(root, minusOneRoot, prime) : root;
        return b ? backend.ModMultiply(value, wRoot, prime) : value;
    }

    private static BigInteger Square(BigInteger value) => value.Multiply(value);
}
