using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

public static class BigNumBackendExtensions
{
    /// <summary>
    /// value^exponent mod modulus for a PUBLIC exponent (N in r^N, a verifier's challenge e in ρ^e): its own length is
    /// its bound, so a backend that pads exponents it is told nothing about to the modulus' length (the browser's JS
    /// BigInt, <see cref="IBigNumBackend.ModPowSecret"/>) pads nothing, and N mod N² costs 2048 bits, not 4096. The base
    /// may be secret; only the exponent must be public.
    /// </summary>
    public static BigInteger ModPowPublicExponent(this IBigNumBackend backend, BigInteger value, BigInteger exponent, BigInteger modulus) =>
        backend.ModPowSecret(value, exponent, modulus, Math.Max(exponent.BitLength, 1));

    /// <summary>
    /// value^exponent mod modulus for a signed exponent: a negative exponent inverts the base first.
    /// The ring-Pedersen proofs work with signed integers, so this is their one exponentiation.
    /// </summary>
    public static BigInteger ModPowSigned(this IBigNumBackend backend, BigInteger value, BigInteger exponent, BigInteger modulus)
    {
        if (exponent.SignValue >= 0)
        {
            return backend.ModPow(value, exponent, modulus);
        }
        BigInteger inverse;
        try
        {
            inverse = value.Mod(modulus).ModInverse(modulus);
        }
        catch (ArithmeticException)
        {
            throw Error.Of(MpcErrorCode.ProofFailed, "A value is not invertible modulo its modulus.");
        }
        return backend.ModPow(inverse, exponent.Negate(), modulus);
    }

    /// <summary>
    /// <see cref="ModPowSigned(IBigNumBackend, BigInteger, BigInteger, BigInteger)"/> for a secret exponent with
    /// |exponent| &lt; 2^<paramref name="exponentBits"/> (<see cref="IBigNumBackend.ModPowSecret"/>).
    /// </summary>
    public static BigInteger ModPowSigned(this IBigNumBackend backend, BigInteger value, BigInteger exponent, BigInteger modulus, int exponentBits)
    {
        if (exponent.SignValue >= 0)
        {
            return backend.ModPowSecret(value, exponent, modulus, exponentBits);
        }
        BigInteger inverse;
        try
        {
            inverse = value.Mod(modulus).ModInverse(modulus);
        }
        catch (ArithmeticException)
        {
            throw Error.Of(MpcErrorCode.ProofFailed, "A value is not invertible modulo its modulus.");
        }
        return backend.ModPowSecret(inverse, exponent.Negate(), modulus, exponentBits);
    }
}
