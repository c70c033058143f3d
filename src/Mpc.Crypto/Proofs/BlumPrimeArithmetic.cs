using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// The Πmod prover's arithmetic modulo one secret Blum prime: Legendre symbols by Euler's criterion and the batches of
/// fourth roots and N-th roots, all through the backend's constant-time exponentiation, one batch per prime and core.
/// The values (all below N, non-negative) go to the backend unreduced: reducing them modulo the secret prime is the
/// backend's job (OpenSSL's constant-time division), not BouncyCastle's variable-time remainder.
/// </summary>
internal static class BlumPrimeArithmetic
{
    /// <summary>Legendre symbol by Euler's criterion through the constant-time backend (the prime is secret).</summary>
    public static int Legendre(IBigNumBackend backend, BigInteger value, BigInteger prime) =>
        LegendreOf(backend.ModPow(value, prime.Subtract(BigInteger.One).ShiftRight(1), prime), prime);

    /// <summary>The Legendre symbols of all values modulo one secret prime, as one batch of backend powers.</summary>
    public static int[] Legendres(IBigNumBackend backend, IReadOnlyList<BigInteger> values, BigInteger prime)
    {
        BigInteger half = prime.Subtract(BigInteger.One).ShiftRight(1);
        BigInteger[] powers = ProofParallel.ModPowMany(
            backend, values, Enumerable.Repeat(half, values.Count).ToArray(), prime);
        return [.. powers.Select(e => LegendreOf(e, prime))];
    }

    /// <summary>
    /// Modulo one prime: adjusted[i]^fourthRoot for every round, then challenges[i]^nInverse (the halves of x_i and z_i),
    /// in one batch: entries [0, m) are the x halves, [m, 2m) the z halves.
    /// </summary>
    public static BigInteger[] RootsModPrime(
        IBigNumBackend backend, BigInteger[] adjusted, BigInteger fourthRoot, BigInteger[] challenges, BigInteger nInverse, BigInteger prime)
    {
        int m = adjusted.Length;
        BigInteger[] values = [.. adjusted, .. challenges];
        BigInteger[] exponents = [.. Enumerable.Repeat(fourthRoot, m), .. Enumerable.Repeat(nInverse, m)];
        return ProofParallel.ModPowMany(backend, values, exponents, prime);
    }

    private static int LegendreOf(BigInteger e, BigInteger prime)
    {
        if (e.Equals(BigInteger.One))
        {
            return 1;
        }
        if (e.Equals(prime.Subtract(BigInteger.One)))
        {
            return -1;
        }
        throw Error.Of(MpcErrorCode.InvalidPaillierModulus, "Πmod: a challenge shares a factor with N.");
    }
}
