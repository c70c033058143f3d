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

    /// <summary>
    /// True when every operation on secret values runs in time independent of those values (OpenSSL's
    /// constant-time routines); false for the managed fallback. The server refuses a variable-time backend
    /// unless it is named explicitly.
    /// </summary>
    bool IsConstantTime { get; }

    /// <summary>value^exponent mod modulus, for an odd modulus &gt; 1 and exponent ≥ 0.</summary>
    BigInteger ModPow(BigInteger value, BigInteger exponent, BigInteger modulus);

    /// <summary>
    /// <see cref="ModPow"/> for a secret exponent from a public range, below 2^<paramref name="exponentBits"/> when the
    /// caller is honest: a backend whose running time follows the exponent's length pads it to that many bits rather
    /// than to the modulus' (the browser's JS BigInt: a 256-bit α raised mod a 4096-bit N² pays for 256 bits, not 4096).
    /// The default is <see cref="ModPow"/>.
    /// </summary>
    BigInteger ModPowSecret(BigInteger value, BigInteger exponent, BigInteger modulus, int exponentBits) => ModPow(value, exponent, modulus);

    /// <summary>
    /// values[i]^exponents[i] mod modulus for every i, against ONE odd modulus &gt; 1, exponents ≥ 0: the proofs' many
    /// exponentiations share one modulus, so its set-up (on OpenSSL one BN_CTX and one Montgomery context) is paid once,
    /// not per power. Same results, guards and timing guarantees as <see cref="ModPow"/> call by call.
    /// </summary>
    /// <remarks>The default computes call by call (the managed and browser backends have no per-call set-up to share).</remarks>
    BigInteger[] ModPowMany(IReadOnlyList<BigInteger> values, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        BigNumGuards.CheckModPowManyArguments(values, exponents, modulus);
        var results = new BigInteger[values.Count];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = ModPow(values[i], exponents[i], modulus);
        }
        return results;
    }

    /// <summary>
    /// value^exponents[i] mod modulus for every i, for PUBLIC values and exponents only (variable time): one base raised
    /// to many exponents, as a verifier does with a ring-Pedersen t. Same guards and results as <see cref="ModPowMany"/>.
    /// </summary>
    /// <remarks>The default is <see cref="ModPowMany"/>; OpenSSL uses a fixed-base table (Yao's method) built once per call.</remarks>
    BigInteger[] PublicFixedBasePowMany(BigInteger value, IReadOnlyList<BigInteger> exponents, BigInteger modulus) =>
        ModPowMany(Enumerable.Repeat(value, exponents.Count).ToArray(), exponents, modulus);

    /// <summary>
    /// ∏ values[i]^exponents[i] mod modulus for PUBLIC values and exponents only (variable time): the batch checks of a
    /// verifier. Same guards as <see cref="ModPowMany"/>; 1 for an empty list.
    /// </summary>
    /// <remarks>The default multiplies the separate powers; OpenSSL uses Pippenger's bucket method (one pass for all bases).</remarks>
    BigInteger PublicProductOfPowers(IReadOnlyList<BigInteger> values, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        BigInteger product = BigInteger.One;
        foreach (BigInteger power in ModPowMany(values, exponents, modulus))
        {
            product = ModMultiply(product, power, modulus);
        }
        return product;
    }

    /// <summary>
    /// value·factor mod modulus for non-negative operands of any size and a positive modulus (odd or even; with factor 1
    /// it is the reduction value mod modulus). Ciphertext products are hot in signing, and the proofs reduce hundreds of
    /// products: never BouncyCastle's bit-by-bit remainder for those.
    /// </summary>
    BigInteger ModMultiply(BigInteger value, BigInteger factor, BigInteger modulus) => NumericsArithmetic.ModMultiply(value, factor, modulus);

    /// <summary>A random prime of exactly <paramref name="bits"/> bits with the top two bits set, ≡ 3 (mod 4) when <paramref name="blum"/>.</summary>
    BigInteger GeneratePrime(int bits, bool blum);

    /// <summary>A random safe prime p = 2p' + 1 of exactly <paramref name="bits"/> bits with the top two bits set.</summary>
    BigInteger GenerateSafePrime(int bits);

    /// <summary>
    /// <paramref name="count"/> distinct random safe primes of exactly <paramref name="bits"/> bits (top two set): the
    /// first found by a sieved search per core (<see cref="SafePrimeSearch"/>), powers and primality tests through this backend.
    /// </summary>
    BigInteger[] GenerateSafePrimes(int bits, int count) => SafePrimeSearch.FirstFound(this, bits, count);

    /// <summary>Probabilistic primality with error below 2^-128.</summary>
    bool IsProbablePrime(BigInteger candidate);

    /// <summary>
    /// The per-key Paillier secret arithmetic (CRT decryption, the unit check, r^N mod N²) for N = p·q with
    /// distinct odd primes; everything derived from p and q is computed once here and wiped on Dispose.
    /// </summary>
    internal IPaillierDecryptionContext CreateDecryptionContext(BigInteger p, BigInteger q);
}

/// <summary>
/// Paillier operations that need the factorisation, behind one handle per key. Thread-safe; after
/// <see cref="IDisposable.Dispose"/> every call throws <see cref="ObjectDisposedException"/>.
/// </summary>
internal interface IPaillierDecryptionContext : IDisposable
{
    /// <summary>gcd(c, N) = 1 for a ciphertext already known to lie in [1, N²); reduced by the secret primes.</summary>
    bool IsUnit(BigInteger ciphertext);

    /// <summary>The plaintext in [0, N) of a ciphertext in [1, N²); throws <see cref="MpcErrorCode.InvalidCiphertext"/> if it is not a unit.</summary>
    BigInteger Decrypt(BigInteger ciphertext);

    /// <summary>nonce^N mod N² through the CRT, for a nonce in [0, N).</summary>
    BigInteger NoncePower(BigInteger nonce);

    /// <summary>
    /// (Dec(y) mod p, y mod p) for y = a·c^e mod p², a and c in [0, N²) checked to be units mod p, e ≥ 0: the c3 proof
    /// verifier's Paillier check, which looks at one prime only (docs/protocol.md, "one prime").
    /// </summary>
    (BigInteger PlaintextModP, BigInteger ProductModP) DecryptProductModP(BigInteger a, BigInteger c, BigInteger e);

    /// <summary>
    /// (first^firstExponent mod p, second^secondExponent mod p) for values and exponents ≥ 0, in one call with the key's
    /// own Montgomery context for p: the c3 proof verifier's exponentiations.
    /// </summary>
    (BigInteger First, BigInteger Second) PowPairModP(BigInteger first, BigInteger firstExponent, BigInteger second, BigInteger secondExponent);

    /// <summary>value mod p, for value ≥ 0.</summary>
    BigInteger ReduceModP(BigInteger value);

    /// <summary>left·right mod p, for left, right ≥ 0.</summary>
    BigInteger MultiplyModP(BigInteger left, BigInteger right);
}

/// <summary>Which backend to use; <see cref="Auto"/> prefers OpenSSL and falls back to managed code.</summary>
public enum BigNumBackendKind
{
    Auto,
    OpenSsl,
    Managed,
}
