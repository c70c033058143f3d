using Org.BouncyCastle.Math;
using CryptographicOperations = System.Security.Cryptography.CryptographicOperations;
using RandomNumberGenerator = System.Security.Cryptography.RandomNumberGenerator;

namespace Mpc.Crypto.Proofs;

/// <summary>Prover randomness, always from the platform CSPRNG, with 128 extra bits before every reduction.</summary>
internal static class ProofRandom
{
    /// <summary>Uniform in [0, bound) (statistical distance below 2^-128).</summary>
    public static BigInteger Below(BigInteger bound)
    {
        if (bound.SignValue <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bound), "Bound must be positive.");
        }
        byte[] buffer = new byte[(bound.BitLength + 128 + 7) / 8];
        try
        {
            RandomNumberGenerator.Fill(buffer);
            return new BigInteger(1, buffer).Mod(bound);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    /// <summary>Uniform in the closed interval [-bound, bound].</summary>
    public static BigInteger Signed(BigInteger bound) =>
        Below(bound.ShiftLeft(1).Add(BigInteger.One)).Subtract(bound);

    /// <summary>Uniform in ±2^<paramref name="bits"/>, i.e. [-2^bits, 2^bits].</summary>
    public static BigInteger SignedBits(int bits) => Signed(BigInteger.One.ShiftLeft(bits));

    /// <summary>Uniform in ±2^<paramref name="bits"/>·<paramref name="factor"/>.</summary>
    public static BigInteger SignedBits(int bits, BigInteger factor) => Signed(factor.ShiftLeft(bits));
}
