using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// Pure BouncyCastle fallback. Correct everywhere, about nine times slower than OpenSSL, and
/// BouncyCastle's <c>ModPow</c> is not constant-time: prefer <see cref="OpenSslBigNumBackend"/>.
/// </summary>
public sealed class ManagedBigNumBackend : IBigNumBackend
{
    // Miller–Rabin rounds for 2^-128 error on adversarial input (each round errs with ≤ 1/4).
    private const int PrimeCertainty = 128;

    private readonly SecureRandom _random;

    public ManagedBigNumBackend() : this(new SecureRandom())
    {
    }

    internal ManagedBigNumBackend(SecureRandom random) => _random = random;

    public string Name => "managed";

    public bool IsConstantTime => false;

    IPaillierDecryptionContext IBigNumBackend.CreateDecryptionContext(BigInteger p, BigInteger q) =>
        new ManagedPaillierDecryptionContext(this, p, q);

    public BigInteger ModPow(BigInteger value, BigInteger exponent, BigInteger modulus)
    {
        BigNumGuards.CheckModPowArguments(exponent, modulus);
        return value.Mod(modulus).ModPow(exponent, modulus);
    }

    public BigInteger GeneratePrime(int bits, bool blum)
    {
        BigNumGuards.CheckPrimeBits(bits);
        while (true)
        {
            BigInteger candidate = RandomOddWithTopBits(bits);
            if (blum)
            {
                candidate = candidate.SetBit(1);
            }
            if (candidate.IsProbablePrime(PrimeCertainty))
            {
                return candidate;
            }
        }
    }

    public BigInteger GenerateSafePrime(int bits)
    {
        BigNumGuards.CheckPrimeBits(bits);
        while (true)
        {
            // p' ≡ 1 (mod 2) and p = 2p' + 1; cheap test on p' first, then p.
            BigInteger half = RandomOddWithTopBits(bits - 1);
            if (!half.IsProbablePrime(2))
            {
                continue;
            }
            BigInteger candidate = half.ShiftLeft(1).Add(BigInteger.One);
            if (candidate.IsProbablePrime(PrimeCertainty) && half.IsProbablePrime(PrimeCertainty))
            {
                return candidate;
            }
        }
    }

    // BouncyCastle tests |candidate|; a non-positive number is never prime (as in the OpenSSL backend).
    public bool IsProbablePrime(BigInteger candidate) => candidate.SignValue > 0 && candidate.IsProbablePrime(PrimeCertainty);

    private BigInteger RandomOddWithTopBits(int bits) =>
        new BigInteger(bits, _random).SetBit(bits - 1).SetBit(bits - 2).SetBit(0);
}

internal static class BigNumGuards
{
    public static void CheckModPowArguments(BigInteger exponent, BigInteger modulus)
    {
        if (modulus.SignValue <= 0 || !modulus.TestBit(0) || modulus.Equals(BigInteger.One))
        {
            throw new ArgumentException("Modulus must be odd and greater than one.", nameof(modulus));
        }
        if (exponent.SignValue < 0)
        {
            throw new ArgumentException("Exponent must be non-negative.", nameof(exponent));
        }
    }

    public static void CheckModPowManyArguments(IReadOnlyList<BigInteger> values, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(exponents);
        ArgumentNullException.ThrowIfNull(modulus);
        if (values.Count != exponents.Count)
        {
            throw new ArgumentException("One exponent per value.", nameof(exponents));
        }
        // The modulus is checked even for an empty list, so a bad modulus never passes unnoticed.
        CheckModPowArguments(BigInteger.Zero, modulus);
        foreach (BigInteger exponent in exponents)
        {
            CheckModPowArguments(exponent, modulus);
        }
    }

    public static void CheckPrimeBits(int bits)
    {
        if (bits < 16 || bits > 8192)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), "Prime size must be between 16 and 8192 bits.");
        }
    }
}
