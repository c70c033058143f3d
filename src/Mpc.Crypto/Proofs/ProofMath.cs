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
        value.SignValue > 0 && value.CompareTo(modulus) < 0 && value.Gcd(modulus).Equals(BigInteger.One);

    /// <summary>Combines residues modulo coprime p and q: the x mod p·q with x ≡ xp (p), x ≡ xq (q).</summary>
    public static BigInteger Crt(BigInteger xp, BigInteger p, BigInteger xq, BigInteger q, BigInteger qInverseModP) =>
        xq.Add(q.Multiply(xp.Subtract(xq).Multiply(qInverseModP).Mod(p)));

    /// <summary>Trial-division bound of <see cref="HasNoSmallPrimeFactor"/>.</summary>
    public const int SmallPrimeBound = 1 << 12;

    /// <summary>The product of the odd primes below <see cref="SmallPrimeBound"/> (immutable, computed once).</summary>
    private static readonly BigInteger SmallPrimeProduct = ComputeSmallPrimeProduct();

    /// <summary>No odd prime below <see cref="SmallPrimeBound"/> divides <paramref name="n"/> (one gcd).</summary>
    public static bool HasNoSmallPrimeFactor(BigInteger n) => n.Gcd(SmallPrimeProduct).Equals(BigInteger.One);

    /// <summary>
    /// ∏ bases[i]^exponents[i] mod modulus, for public values only (variable time). The powers are backend
    /// exponentiations with short exponents, one batch call per core (one Montgomery set-up each); measured faster than a managed Straus
    /// multi-exponentiation with shared squarings (<see cref="ProductOfPowersStraus"/>), see docs/benchmarks.md.
    /// </summary>
    public static BigInteger ProductOfPowers(IBigNumBackend backend, IReadOnlyList<BigInteger> bases, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        if (bases.Count != exponents.Count)
        {
            throw new ArgumentException("One exponent per base.", nameof(exponents));
        }
        BigInteger[] powers = ProofParallel.ModPowMany(backend, bases, exponents, modulus);
        BigInteger product = BigInteger.One;
        foreach (BigInteger power in powers)
        {
            product = product.Multiply(power).Mod(modulus);
        }
        return product;
    }

    /// <summary>
    /// The same product by Straus's method with 4-bit windows: one shared chain of squarings for all bases and a
    /// table of 15 powers per base, in managed arithmetic. Kept for the measurement against <see cref="ProductOfPowers"/>.
    /// </summary>
    internal static BigInteger ProductOfPowersStraus(IReadOnlyList<BigInteger> bases, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        const int window = 4;
        int count = bases.Count;
        var tables = new BigInteger[count][];
        int maxBits = 0;
        for (int i = 0; i < count; i++)
        {
            var table = new BigInteger[1 << window];
            table[1] = bases[i].Mod(modulus);
            for (int k = 2; k < table.Length; k++)
            {
                table[k] = table[k - 1].Multiply(table[1]).Mod(modulus);
            }
            tables[i] = table;
            maxBits = Math.Max(maxBits, exponents[i].BitLength);
        }
        BigInteger accumulator = BigInteger.One;
        for (int top = (maxBits + window - 1) / window * window - window; top >= 0; top -= window)
        {
            for (int k = 0; k < window; k++)
            {
                accumulator = accumulator.Multiply(accumulator).Mod(modulus);
            }
            for (int i = 0; i < count; i++)
            {
                int digit = exponents[i].ShiftRight(top).IntValue & ((1 << window) - 1);
                if (digit != 0)
                {
                    accumulator = accumulator.Multiply(tables[i][digit]).Mod(modulus);
                }
            }
        }
        return accumulator;
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
