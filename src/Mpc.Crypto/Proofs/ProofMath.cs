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
}
