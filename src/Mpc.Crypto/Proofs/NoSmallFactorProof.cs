using Mpc.Crypto.BigNum;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// Πfac (CGGMP21, "no small factor" proof): N0 = p·q with p, q both larger than roughly 2^ℓ (ℓ = 256), against the
/// VERIFIER's ring-Pedersen parameters. Proved by the Paillier key owner (the server, P1). The BitForge defence:
/// a modulus with a small prime factor fails the range check on z1 or z2.
/// </summary>
public sealed class NoSmallFactorProof
{
    public const string Name = "Πfac";
    private const string Purpose = "no-small-factor/Πfac";
    private const int Ell = ProofParameters.FactorProofEll;
    private const int Epsilon = ProofParameters.FactorProofEpsilon;

    public NoSmallFactorProof(
        BigInteger p, BigInteger q, BigInteger a, BigInteger b, BigInteger t, BigInteger sigma,
        BigInteger z1, BigInteger z2, BigInteger w1, BigInteger w2, BigInteger v)
    {
        P = p ?? throw new ArgumentNullException(nameof(p));
        Q = q ?? throw new ArgumentNullException(nameof(q));
        A = a ?? throw new ArgumentNullException(nameof(a));
        B = b ?? throw new ArgumentNullException(nameof(b));
        T = t ?? throw new ArgumentNullException(nameof(t));
        Sigma = sigma ?? throw new ArgumentNullException(nameof(sigma));
        Z1 = z1 ?? throw new ArgumentNullException(nameof(z1));
        Z2 = z2 ?? throw new ArgumentNullException(nameof(z2));
        W1 = w1 ?? throw new ArgumentNullException(nameof(w1));
        W2 = w2 ?? throw new ArgumentNullException(nameof(w2));
        V = v ?? throw new ArgumentNullException(nameof(v));
    }

    /// <summary>P = s^p·t^μ mod N̂ (commitment to the first factor).</summary>
    public BigInteger P { get; }

    /// <summary>Q = s^q·t^ν mod N̂ (commitment to the second factor).</summary>
    public BigInteger Q { get; }

    /// <summary>A = s^α·t^x mod N̂.</summary>
    public BigInteger A { get; }

    /// <summary>B = s^β·t^y mod N̂.</summary>
    public BigInteger B { get; }

    /// <summary>T = Q^α·t^r mod N̂.</summary>
    public BigInteger T { get; }

    /// <summary>σ, sent in the clear: R = s^N0·t^σ.</summary>
    public BigInteger Sigma { get; }

    public BigInteger Z1 { get; }

    public BigInteger Z2 { get; }

    public BigInteger W1 { get; }

    public BigInteger W2 { get; }

    public BigInteger V { get; }

    public static NoSmallFactorProof Prove(PaillierPrivateKey key, RingPedersenParameters verifierParameters, ProofContext context)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(verifierParameters);
        ArgumentNullException.ThrowIfNull(context);
        verifierParameters.Validate();
        IBigNumBackend backend = key.PublicKey.Backend;
        BigInteger n0 = key.PublicKey.N;
        BigInteger p = key.P, q = key.Q;
        BigInteger nHat = verifierParameters.N, s = verifierParameters.S, t = verifierParameters.T;

        BigInteger sqrtN0 = ProofMath.IntegerSqrt(n0);
        BigInteger alpha = ProofRandom.SignedBits(Ell + Epsilon, sqrtN0);
        BigInteger beta = ProofRandom.SignedBits(Ell + Epsilon, sqrtN0);
        BigInteger mu = ProofRandom.SignedBits(Ell, nHat);
        BigInteger nu = ProofRandom.SignedBits(Ell, nHat);
        BigInteger sigma = ProofRandom.SignedBits(Ell, n0.Multiply(nHat));
        BigInteger r = ProofRandom.SignedBits(Ell + Epsilon, n0.Multiply(nHat));
        BigInteger x = ProofRandom.SignedBits(Ell + Epsilon, nHat);
        BigInteger y = ProofRandom.SignedBits(Ell + Epsilon, nHat);

        // Signed exponents: the sign of each mask is hidden by its magnitude (|mask| ≫ e·secret), so the
        // sign-dependent inversion in ModPowSigned reveals nothing beyond the public responses.
        BigInteger bigP = Commit(backend, s, p, t, mu, nHat);
        BigInteger bigQ = Commit(backend, s, q, t, nu, nHat);
        BigInteger bigA = Commit(backend, s, alpha, t, x, nHat);
        BigInteger bigB = Commit(backend, s, beta, t, y, nHat);
        BigInteger bigT = Commit(backend, bigQ, alpha, t, r, nHat);

        BigInteger e = Challenge(n0, verifierParameters, bigP, bigQ, bigA, bigB, bigT, sigma, context);
        BigInteger sigmaHat = sigma.Subtract(nu.Multiply(p));
        return new NoSmallFactorProof(
            bigP, bigQ, bigA, bigB, bigT, sigma,
            z1: alpha.Add(e.Multiply(p)),
            z2: beta.Add(e.Multiply(q)),
            w1: x.Add(e.Multiply(mu)),
            w2: y.Add(e.Multiply(nu)),
            v: r.Add(e.Multiply(sigmaHat)));
    }

    /// <summary>
    /// Verifies the proof for <paramref name="key"/>'s modulus; throws <see cref="MpcProtocolException"/> on any failure.
    /// A verifier that holds the trapdoor of its parameters passes it as <paramref name="verifierSecret"/>: the three
    /// ring-Pedersen equalities are then checked modulo one of its primes, with s^a·t^b = t^(λa+b) (as sound as the
    /// check modulo N̂ against a prover that cannot factor N̂; docs/protocol.md).
    /// </summary>
    public void Verify(PaillierPublicKey key, RingPedersenParameters verifierParameters, ProofContext context, RingPedersenSecret? verifierSecret = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(verifierParameters);
        ArgumentNullException.ThrowIfNull(context);
        verifierSecret?.RequireParameters(verifierParameters, nameof(verifierSecret));
        verifierParameters.Validate();
        IBigNumBackend backend = key.Backend;
        BigInteger n0 = key.N;
        BigInteger nHat = verifierParameters.N, s = verifierParameters.S, t = verifierParameters.T;

        RequireUnit(P, nHat, "P");
        RequireUnit(Q, nHat, "Q");
        RequireUnit(A, nHat, "A");
        RequireUnit(B, nHat, "B");
        RequireUnit(T, nHat, "T");
        Bounds bounds = new(n0.BitLength, nHat.BitLength);
        RequireBits(Sigma, bounds.Sigma, "σ");
        RequireBits(W1, bounds.W, "w1");
        RequireBits(W2, bounds.W, "w2");
        RequireBits(V, bounds.V, "v");
        // |z| ≤ √N0·2^(ℓ+ε)  ⇔  z² ≤ N0·2^(2(ℓ+ε)): exact, no square root needed.
        BigInteger rangeSquared = n0.ShiftLeft(2 * (Ell + Epsilon));
        if (Z1.Multiply(Z1).CompareTo(rangeSquared) > 0)
        {
            throw Error.ProofFailed(Name, "z1 is outside ±√N0·2^(ℓ+ε)");
        }
        if (Z2.Multiply(Z2).CompareTo(rangeSquared) > 0)
        {
            throw Error.ProofFailed(Name, "z2 is outside ±√N0·2^(ℓ+ε)");
        }

        BigInteger e = Challenge(n0, verifierParameters, P, Q, A, B, T, Sigma, context);
        int failed = verifierSecret is null ? FailedEqualityModNHat(backend, e, n0, nHat, s, t) : FailedEqualityModOwnPrime(verifierSecret, e, n0);
        switch (failed)
        {
            case 0:
                throw Error.ProofFailed(Name, "first equality s^z1·t^w1 ≡ A·P^e");
            case 1:
                throw Error.ProofFailed(Name, "second equality s^z2·t^w2 ≡ B·Q^e");
            case 2:
                throw Error.ProofFailed(Name, "third equality Q^z1·t^v ≡ T·R^e");
        }
    }

    /// <summary>
    /// The three equalities modulo one prime p̂ of the verifier's own N̂, in one batch of six powers:
    /// t^(λz1+w1) ≡ A·P^e, t^(λz2+w2) ≡ B·Q^e and Q^z1 ≡ T·t^((λN0+σ)e − v). Returns the first that fails, or −1.
    /// </summary>
    private int FailedEqualityModOwnPrime(RingPedersenSecret secret, BigInteger e, BigInteger n0)
    {
        BigInteger t = secret.Parameters.T;
        BigInteger[] powers = secret.PowsModP(
            [t, t, Q, t, P, Q],
            [
                secret.CommitmentExponent(Z1, W1), secret.CommitmentExponent(Z2, W2),
                Z1, secret.CommitmentExponent(n0, Sigma).Multiply(e).Subtract(V),
                e, e,
            ]);
        if (!powers[0].Equals(secret.MultiplyModP(A, powers[4])))
        {
            return 0;
        }
        if (!powers[1].Equals(secret.MultiplyModP(B, powers[5])))
        {
            return 1;
        }
        return powers[2].Equals(secret.MultiplyModP(T, powers[3])) ? -1 : 2;
    }

    private int FailedEqualityModNHat(IBigNumBackend backend, BigInteger e, BigInteger n0, BigInteger nHat, BigInteger s, BigInteger t)
    {
        // The three equalities are independent (two or three exponentiations mod N̂ each): all cores, and the
        // first failing one in order is reported, as a sequential check would.
        return ProofParallel.FirstFailure(3, i => i switch
        {
            0 => Commit(backend, s, Z1, t, W1, nHat).Equals(backend.ModMultiply(A, backend.ModPowPublicExponent(P, e, nHat), nHat)),
            1 => Commit(backend, s, Z2, t, W2, nHat).Equals(backend.ModMultiply(B, backend.ModPowPublicExponent(Q, e, nHat), nHat)),
            _ => Commit(backend, Q, Z1, t, V, nHat).Equals(
                backend.ModMultiply(T, backend.ModPowPublicExponent(Commit(backend, s, n0, t, Sigma, nHat), e, nHat), nHat)),
        });
    }

    public void WriteTo(WireWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteBigInteger(P).WriteBigInteger(Q).WriteBigInteger(A).WriteBigInteger(B).WriteBigInteger(T)
            .WriteBigInteger(Sigma)
            .WriteBigInteger(Z1).WriteBigInteger(Z2).WriteBigInteger(W1).WriteBigInteger(W2).WriteBigInteger(V);
    }

    /// <summary>Reads a proof, bounding every integer by the largest accepted Paillier and ring-Pedersen moduli.</summary>
    public static NoSmallFactorProof ReadFrom(
        ref WireReader r,
        int maxPaillierBits = PaillierPublicKey.MaximumModulusBits,
        int maxRingPedersenBits = ProofParameters.RingPedersenMaximumBits)
    {
        Bounds bounds = new(maxPaillierBits, maxRingPedersenBits);
        return new NoSmallFactorProof(
            p: r.ReadBigInteger("Πfac P", maxRingPedersenBits),
            q: r.ReadBigInteger("Πfac Q", maxRingPedersenBits),
            a: r.ReadBigInteger("Πfac A", maxRingPedersenBits),
            b: r.ReadBigInteger("Πfac B", maxRingPedersenBits),
            t: r.ReadBigInteger("Πfac T", maxRingPedersenBits),
            sigma: r.ReadBigInteger("Πfac σ", bounds.Sigma),
            z1: r.ReadBigInteger("Πfac z1", bounds.Z),
            z2: r.ReadBigInteger("Πfac z2", bounds.Z),
            w1: r.ReadBigInteger("Πfac w1", bounds.W),
            w2: r.ReadBigInteger("Πfac w2", bounds.W),
            v: r.ReadBigInteger("Πfac v", bounds.V));
    }

    public override string ToString() => "NoSmallFactorProof";

    /// <summary>Largest honest bit sizes (with slack) for moduli of the given sizes.</summary>
    private readonly record struct Bounds(int PaillierBits, int RingPedersenBits)
    {
        public int Sigma => Ell + PaillierBits + RingPedersenBits + 1;

        public int Z => Ell + Epsilon + (PaillierBits + 1) / 2 + 2;

        public int W => Ell + Epsilon + RingPedersenBits + 2;

        public int V => Ell + Epsilon + PaillierBits + RingPedersenBits + 2;
    }

    private static BigInteger Challenge(
        BigInteger n0, RingPedersenParameters parameters, BigInteger p, BigInteger q, BigInteger a, BigInteger b,
        BigInteger t, BigInteger sigma, ProofContext context) =>
        Transcript.Start(Purpose, context)
            .Append("Πfac/N0", n0)
            .Append("Πfac/N̂", parameters.N)
            .Append("Πfac/s", parameters.S)
            .Append("Πfac/t", parameters.T)
            .Append("Πfac/P", p)
            .Append("Πfac/Q", q)
            .Append("Πfac/A", a)
            .Append("Πfac/B", b)
            .Append("Πfac/T", t)
            .Append("Πfac/σ", sigma)
            .ChallengeBelow("Πfac/e", BigInteger.One.ShiftLeft(Ell));

    /// <summary>g^a·h^b mod n for signed exponents.</summary>
    private static BigInteger Commit(IBigNumBackend backend, BigInteger g, BigInteger a, BigInteger h, BigInteger b, BigInteger n) =>
        backend.ModMultiply(backend.ModPowSigned(g, a, n), backend.ModPowSigned(h, b, n), n);

    private static void RequireUnit(BigInteger value, BigInteger modulus, string field)
    {
        if (!ProofMath.IsUnitBelow(value, modulus))
        {
            throw Error.ProofFailed(Name, $"{field} is not a unit in [1, N̂)");
        }
    }

    private static void RequireBits(BigInteger value, int maxBits, string field)
    {
        if (value.BitLength > maxBits)
        {
            throw Error.ProofFailed(Name, $"{field} is larger than {maxBits} bits");
        }
    }
}
