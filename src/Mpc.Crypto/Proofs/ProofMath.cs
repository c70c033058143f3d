using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>Small number-theoretic helpers for the proofs. Variable time: only for public values.</summary>
internal static class ProofMath
{
    /// <summary>The Jacobi symbol (a/n) for odd n &gt; 0: 1, -1, or 0 when gcd(a, n) ≠ 1.</summary>
    public static int Jacobi(BigInteger a, BigInteger n)
    {
        if (n.SignValue <= 0 || !n.TestBit(0))
        {
            throw new ArgumentException("Jacobi symbol needs an odd positive modulus.", nameof(n));
        }
        a = a.Mod(n);
        int result = 1;
        while (a.SignValue != 0)
        {
            int twos = a.GetLowestSetBit();
            a = a.ShiftRight(twos);
            int nMod8 = n.IntValue & 7;
            if ((twos & 1) == 1 && (nMod8 == 3 || nMod8 == 5))
            {
                result = -result;
            }
            // Quadratic reciprocity: swap, flipping the sign when both are 3 mod 4.
            (a, n) = (n, a);
            if ((a.IntValue & 3) == 3 && (n.IntValue & 3) == 3)
            {
                result = -result;
            }
            a = a.Mod(n);
        }
        return n.Equals(BigInteger.One) ? result : 0;
    }

    /// <summary>⌊√value⌋ for value ≥ 0 (Newton's method).</summary>
    public static BigInteger IntegerSqrt(BigInteger value)
    {
        if (value.SignValue < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "Square root of a negative number.");
        }
        if (value.SignValue == 0)
        {
            return BigInteger.Zero;
        }
        BigInteger x = BigInteger.One.ShiftLeft((value.BitLength + 1) / 2);
        while (true)
        {
            BigInteger next = x.Add(value.Divide(x)).ShiftRight(1);
            if (next.CompareTo(x) >= 0)
            {
                return x;
            }
            x = next;
        }
    }

    /// <summary>1 ≤ value &lt; modulus and gcd(value, modulus) = 1.</summary>
    public static bool IsUnitBelow(BigInteger value, BigInteger modulus) =>
        value.SignValue > 0 && value.CompareTo(modulus) < 0 && NumericsArithmetic.AreCoprime(value, modulus);

    /// <summary>
    /// Combines residues xp ∈ [0, p) and xq ∈ [0, q) modulo coprime p and q: the x mod p·q with x ≡ xp (p), x ≡ xq (q)
    /// (Garner). The reductions run in the backend, not in BouncyCastle's remainder.
    /// </summary>
    public static BigInteger Crt(IBigNumBackend backend, BigInteger xp, BigInteger p, BigInteger xq, BigInteger q, BigInteger qInverseModP)
    {
        BigInteger difference = xp.Subtract(backend.ModMultiply(xq, BigInteger.One, p));
        if (difference.SignValue < 0)
        {
            difference = difference.Add(p);
        }
        return xq.Add(q.Multiply(backend.ModMultiply(difference, qInverseModP, p)));
    }

    /// <summary>
    /// exponent mod order in [0, order) for any integer exponent (signed, secret): a multiple of the order larger than
    /// |exponent| is added first, so no branch depends on the exponent's sign, and the reduction runs in the backend.
    /// With order = p − 1 for a prime p, the result is a full-length exponent with the same powers of units mod p (Fermat).
    /// </summary>
    public static BigInteger ReduceExponent(IBigNumBackend backend, BigInteger exponent, BigInteger order) =>
        backend.ModMultiply(exponent.Add(order.ShiftLeft(exponent.BitLength + 1)), BigInteger.One, order);

    /// <summary>Trial-division bound of <see cref="HasNoSmallPrimeFactor"/>.</summary>
    public const int SmallPrimeBound = 1 << 12;

    /// <summary>The product of the odd primes below <see cref="SmallPrimeBound"/> (immutable, computed once).</summary>
    private static readonly BigInteger SmallPrimeProduct = ComputeSmallPrimeProduct();

    /// <summary>No odd prime below <see cref="SmallPrimeBound"/> divides <paramref name="n"/> (one gcd).</summary>
    public static bool HasNoSmallPrimeFactor(BigInteger n) => NumericsArithmetic.AreCoprime(n, SmallPrimeProduct);

    /// <summary>
    /// ∏ bases[i]^exponents[i] mod modulus, for public values only (variable time): one
    /// <see cref="IBigNumBackend.PublicProductOfPowers"/> per core over a share of the bases, then the partial products
    /// multiplied. On OpenSSL that is Pippenger's bucket method, about a quarter of the multiplications of separate
    /// powers for the Πmod batch check (docs/benchmarks.md).
    /// </summary>
    public static BigInteger ProductOfPowers(IBigNumBackend backend, IReadOnlyList<BigInteger> bases, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        if (bases.Count != exponents.Count)
        {
            throw new ArgumentException("One exponent per base.", nameof(exponents));
        }
        BigInteger product = BigInteger.One;
        foreach (BigInteger part in ProofParallel.PublicProductsOfPowers(backend, bases, exponents, modulus))
        {
            product = backend.ModMultiply(product, part, modulus);
        }
        return product;
    }

    private static BigInteger ComputeSmallPrimeProduct()
    {
        var composite = new bool[SmallPrimeBound];
        BigInteger product = BigInteger.One;
        for (int i = 3; i < SmallPrimeBound; i += 2)
        {
            if (composite[i])
            {
                continue;
            }
            product = product.Multiply(BigInteger.ValueOf(i));
            for (long j = (long)i * i; j < SmallPrimeBound; j += 2 * i)
            {
                composite[j] = true;
            }
        }
        return product;
    }
}
