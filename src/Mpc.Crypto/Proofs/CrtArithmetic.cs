using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// Arithmetic modulo the two primes of the server's own Paillier modulus, for the c3 proof verifier. Values stay as
/// residue pairs (mod p, mod q) and are compared there, so nothing is recombined and no inverse is needed. Every
/// reduction and exponentiation runs in the backend (constant-time on OpenSSL): the inputs are public, p and q are not.
/// The exponentiations go through the key's decryption context, which keeps Montgomery contexts for p and q and runs
/// both halves in one call. Made per verification; holds no state of its own.
/// </summary>
internal sealed class CrtArithmetic(PaillierPrivateKey key)
{
    private readonly BigInteger _p = key.P;
    private readonly BigInteger _q = key.Q;
    private readonly BigInteger _pMinusOne = key.P.Subtract(BigInteger.One);
    private readonly BigInteger _qMinusOne = key.Q.Subtract(BigInteger.One);
    private readonly IBigNumBackend _backend = key.PublicKey.Backend;

    /// <summary>value mod p and mod q, for value ≥ 0.</summary>
    public Residues Reduce(BigInteger value) =>
        new(_backend.ModMultiply(value, BigInteger.One, _p), _backend.ModMultiply(value, BigInteger.One, _q));

    /// <summary>
    /// value^exponent mod p and mod q for a value that is a unit mod N and a secret or negative exponent: the exponent is
    /// reduced mod p-1 and q-1 (Fermat), after adding a multiple of both so no branch depends on its sign.
    /// </summary>
    public Residues Pow(BigInteger value, BigInteger exponent)
    {
        (BigInteger modP, BigInteger modQ) = key.PowModPrimes(value, ReduceExponent(exponent, _pMinusOne), ReduceExponent(exponent, _qMinusOne));
        return new(modP, modQ);
    }

    /// <summary>
    /// value^exponent mod p and mod q for a public exponent ≥ 0 (e, |z1|), not reduced: its length is public, and a
    /// reduced exponent would be as long as p. With a 128-bit e this is a fraction of <see cref="Pow"/>.
    /// </summary>
    public Residues PowPublic(BigInteger value, BigInteger exponent)
    {
        if (exponent.SignValue < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(exponent), "PowPublic takes a non-negative exponent.");
        }
        (BigInteger modP, BigInteger modQ) = key.PowModPrimes(value, exponent, exponent);
        return new(modP, modQ);
    }

    public Residues Multiply(Residues left, Residues right) =>
        new(_backend.ModMultiply(left.ModP, right.ModP, _p), _backend.ModMultiply(left.ModQ, right.ModQ, _q));

    /// <summary>Whether value (≥ 0) is a unit mod N: neither p nor q divides it. Two remainders instead of a gcd.</summary>
    public bool IsUnit(BigInteger value)
    {
        Residues reduced = Reduce(value);
        return reduced.ModP.SignValue != 0 && reduced.ModQ.SignValue != 0;
    }

    private BigInteger ReduceExponent(BigInteger exponent, BigInteger order) =>
        _backend.ModMultiply(exponent.Add(order.ShiftLeft(exponent.BitLength + 1)), BigInteger.One, order);
}

/// <summary>A value mod p and mod q.</summary>
internal readonly record struct Residues(BigInteger ModP, BigInteger ModQ)
{
    public bool Equals(Residues other) => ModP.Equals(other.ModP) && ModQ.Equals(other.ModQ);

    public override int GetHashCode() => HashCode.Combine(ModP, ModQ);

    // Residues modulo secret primes reveal the primes: never print them.
    public override string ToString() => nameof(Residues);
}
