using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// Arithmetic modulo ONE prime factor p of the server's own Paillier modulus, for the c3 proof verifier. Every value
/// in the proof's equations is public, so an equation that holds mod p (or mod p²) but not mod N (or N²) hands its
/// prover the factor gcd(lhs − rhs, N): checking mod p is as sound as checking mod N for anyone who cannot factor
/// N (the argument is in docs/protocol.md, "one prime"). Every reduction and exponentiation runs in the backend
/// (constant-time on OpenSSL) through the key's decryption context, which keeps the Montgomery contexts for p and p².
/// Made per verification; holds no state of its own.
/// </summary>
internal sealed class OnePrimeArithmetic(PaillierPrivateKey key)
{
    private readonly BigInteger _pMinusOne = key.P.Subtract(BigInteger.One);

    /// <summary>value mod p, for value ≥ 0.</summary>
    public BigInteger Reduce(BigInteger value) => key.ReduceModP(value);

    public BigInteger Multiply(BigInteger left, BigInteger right) => key.MultiplyModP(left, right);

    /// <summary>
    /// (first^firstExponent, second^secondExponent) mod p for values that are units mod p and any integer exponents
    /// (secret or negative): each exponent is reduced mod p − 1 (Fermat) after adding a multiple of p − 1 so no branch
    /// depends on its sign. Such exponents (λ·z + z') reduce to full length, so libcrypto runs both powers side by side.
    /// </summary>
    public (BigInteger First, BigInteger Second) PowPair(BigInteger first, BigInteger firstExponent, BigInteger second, BigInteger secondExponent) =>
        key.PowPairModP(first, ReduceExponent(firstExponent), second, ReduceExponent(secondExponent));

    /// <summary>
    /// (first^firstExponent, second^secondExponent) mod p for PUBLIC exponents of any sign and size (z1, N): reduced mod
    /// p − 1 like <see cref="PowPair"/>, then lengthened by p − 1 where that keeps them within p's length. A short
    /// exponent (z1 ≥ 0 reduces to its own 514 bits) would otherwise take both powers off libcrypto's AVX-512 pair,
    /// which runs only when bases, exponents and moduli all have p's word length: 0.44 ms against 0.24 ms here. The
    /// branch looks only at public exponents (the secret ones of <see cref="PowPair"/> never take it).
    /// </summary>
    public (BigInteger First, BigInteger Second) PowPairPublic(BigInteger first, BigInteger firstExponent, BigInteger second, BigInteger secondExponent) =>
        key.PowPairModP(first, FullLength(ReduceExponent(firstExponent)), second, FullLength(ReduceExponent(secondExponent)));

    /// <summary>
    /// (first^firstExponent, second^secondExponent) mod p for PUBLIC non-negative exponents (the 128-bit challenge e),
    /// used as they are: padding a 128-bit exponent to p's length so the pair can share one AVX-512 call costs more than
    /// two short powers (0.13 F against 0.04 F, docs/protocol.md). The modulus p stays secret and in the constant-time path.
    /// </summary>
    public (BigInteger First, BigInteger Second) PowPairPublicExponents(BigInteger first, BigInteger firstExponent, BigInteger second, BigInteger secondExponent) =>
        key.PowPairModP(first, firstExponent, second, secondExponent);

    private BigInteger FullLength(BigInteger reduced)
    {
        BigInteger lengthened = reduced.Add(_pMinusOne);
        return lengthened.BitLength <= _pMinusOne.BitLength ? lengthened : reduced;
    }

    private BigInteger ReduceExponent(BigInteger exponent) => ProofMath.ReduceExponent(key.PublicKey.Backend, exponent, _pMinusOne);
}
