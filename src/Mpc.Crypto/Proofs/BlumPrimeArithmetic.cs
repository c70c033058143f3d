using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// The Πmod prover's arithmetic modulo one secret Blum prime p, all through the backend's constant-time
/// exponentiation, one batch per prime and core. With e = ((p+1)/4)² mod (p−1), g = y^e is the fourth root of y when y
/// is a fourth power, and g⁴ = y^((p+1)/2) = y·(y/p): the same power gives the Legendre symbol (Euler's criterion would
/// be a third power per round). Values go to the backend unreduced: reducing them modulo the secret prime is the
/// backend's job (OpenSSL's constant-time division), not BouncyCastle's variable-time remainder.
/// </summary>
internal static class BlumPrimeArithmetic
{
    /// <summary>What one prime contributes to every round: y_i^e and y_i^(N⁻¹) mod p, (y_i/p), and the same for −1 and w.</summary>
    public sealed record PrimeHalves(
        BigInteger[] FourthRoots, BigInteger[] NthRoots, int[] Legendres, BigInteger MinusOneRoot, int MinusOneLegendre, BigInteger WRoot, int WLegendre)
    {
        // A record prints its members by default: residues mod a secret prime (gcd(WRoot⁴ ∓ w, N) is that prime).
        public override string ToString() => nameof(PrimeHalves);
    }

    /// <summary>
    /// For the challenges y_i modulo <paramref name="prime"/>: y_i^fourthRoot, y_i^nInverse and (y_i/p), and (−1)^fourthRoot,
    /// w^fourthRoot with their symbols, in one batch of 2m + 2 powers. A challenge divisible by p is refused.
    /// </summary>
    public static PrimeHalves Compute(
        IBigNumBackend backend, BigInteger[] challenges, BigInteger minusOne, BigInteger w, BigInteger fourthRoot, BigInteger nInverse, BigInteger prime)
    {
        int m = challenges.Length;
        BigInteger[] values = [minusOne, w, .. challenges, .. challenges];
        BigInteger[] exponents = [.. Enumerable.Repeat(fourthRoot, m + 2), .. Enumerable.Repeat(nInverse, m)];
        BigInteger[] powers = ProofParallel.ModPowMany(backend, values, exponents, prime);
        var legendres = new int[m];
        for (int i = 0; i < m; i++)
        {
            legendres[i] = LegendreFromRoot(backend, challenges[i], powers[i + 2], prime);
        }
        return new PrimeHalves(
            powers[2..(m + 2)], powers[(m + 2)..], legendres,
            powers[0], LegendreFromRoot(backend, minusOne, powers[0], prime),
            powers[1], LegendreFromRoot(backend, w, powers[1], prime));
    }

    /// <summary>
    /// (v/p) from g = v^e: g⁴ ≡ v·(v/p) (mod p) for a Blum prime. For a prime that is not ≡ 3 (mod 4) (a malformed key run
    /// through the honest algorithm by tests) neither may hold; that counts as 1, and the resulting proof fails to verify.
    /// </summary>
    private static int LegendreFromRoot(IBigNumBackend backend, BigInteger value, BigInteger root, BigInteger prime)
    {
        BigInteger reduced = backend.ModMultiply(value, BigInteger.One, prime);
        if (reduced.SignValue == 0)
        {
            throw Error.Of(MpcErrorCode.InvalidPaillierModulus, "Πmod: a challenge shares a factor with N.");
        }
        BigInteger square = backend.ModMultiply(root, root, prime);
        BigInteger fourth = backend.ModMultiply(square, square, prime);
        return fourth.Equals(prime.Subtract(reduced)) ? -1 : 1;
    }
}
