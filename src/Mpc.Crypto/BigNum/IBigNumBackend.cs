using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// Big-number operations behind Paillier and the ring-Pedersen proofs. Exponents may be secret:
/// implementations must not branch or index memory on exponent bits.
/// </summary>
public interface IBigNumBackend
{
    /// <summary>Short name shown in benchmarks and logs ("openssl", "managed").</summary>
    string Name { get; }

    /// <summary>value^exponent mod modulus, for an odd modulus &gt; 1 and exponent ≥ 0.</summary>
    BigInteger ModPow(BigInteger value, BigInteger exponent, BigInteger modulus);

    /// <summary>value·factor mod modulus, for operands already in [0, modulus). Ciphertext products are hot in signing.</summary>
    BigInteger ModMultiply(BigInteger value, BigInteger factor, BigInteger modulus) => value.Multiply(factor).Mod(modulus);

    /// <summary>A random prime of exactly <paramref name="bits"/> bits with the top two bits set, ≡ 3 (mod 4) when <paramref name="blum"/>.</summary>
    BigInteger GeneratePrime(int bits, bool blum);

    /// <summary>A random safe prime p = 2p' + 1 of exactly <paramref name="bits"/> bits with the top two bits set.</summary>
    BigInteger GenerateSafePrime(int bits);

    /// <summary>Probabilistic primality with error below 2^-128.</summary>
    bool IsProbablePrime(BigInteger candidate);
}

/// <summary>Which backend to use; <see cref="Auto"/> prefers OpenSSL and falls back to managed code.</summary>
public enum BigNumBackendKind
{
    Auto,
    OpenSsl,
    Managed,
}
