using System.Security.Cryptography;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// Products modulo a number and coprimality through .NET's <see cref="System.Numerics.BigInteger"/> rather than
/// BouncyCastle's: BouncyCastle's remainder works bit by bit, and its gcd is built on it. On this project's machines a
/// 4096-bit product reduced modulo 2048 bits costs about 90 µs in BouncyCastle against about 10 µs here (with the
/// conversions), and a 2048-bit gcd about 250 µs against 15 µs; the proofs do hundreds of each. Variable time, like
/// BouncyCastle's: the managed backends' <see cref="IBigNumBackend.ModMultiply"/>, and coprimality of public values.
/// The byte copies are wiped.
/// </summary>
internal static class NumericsArithmetic
{
    /// <summary>value·factor mod modulus for non-negative operands and a positive modulus.</summary>
    public static BigInteger ModMultiply(BigInteger value, BigInteger factor, BigInteger modulus)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(factor);
        ArgumentNullException.ThrowIfNull(modulus);
        if (modulus.SignValue <= 0 || value.SignValue < 0 || factor.SignValue < 0)
        {
            throw new ArgumentException("ModMultiply takes non-negative operands and a positive modulus.");
        }
        System.Numerics.BigInteger product = ToNumerics(value) * ToNumerics(factor);
        return FromNumerics(System.Numerics.BigInteger.Remainder(product, ToNumerics(modulus)));
    }

    /// <summary>gcd(left, right) = 1, for non-negative integers (gcd(0, m) = m).</summary>
    public static bool AreCoprime(BigInteger left, BigInteger right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        if (left.SignValue < 0 || right.SignValue < 0)
        {
            throw new ArgumentException("AreCoprime takes non-negative integers.");
        }
        return System.Numerics.BigInteger.GreatestCommonDivisor(ToNumerics(left), ToNumerics(right)).IsOne;
    }

    internal static System.Numerics.BigInteger ToNumerics(BigInteger value)
    {
        byte[] bytes = value.ToByteArrayUnsigned();
        try
        {
            return new System.Numerics.BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static BigInteger FromNumerics(System.Numerics.BigInteger value)
    {
        byte[] bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        try
        {
            return new BigInteger(1, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }
}
