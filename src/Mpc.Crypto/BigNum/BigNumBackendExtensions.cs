using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

public static class BigNumBackendExtensions
{
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
}
