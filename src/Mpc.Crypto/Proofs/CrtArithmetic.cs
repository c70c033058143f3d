using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// Arithmetic modulo the two primes of the server's own Paillier modulus, for the c3 proof verifier. Values stay as
/// residue pairs (mod p, mod q) and are compared there, so nothing is recombined and no inverse is needed. Every
/// reduction and exponentiation goes through the backend (constant-time on OpenSSL): the inputs are public, p and q
/// are not. Made per verification from the key's primes; holds no state of its own.
/// </summary>
internal sealed class CrtArithmetic(BigInteger p, BigInteger q, IBigNumBackend backend)
{
    private readonly BigInteger _pMinusOne = p.Subtract(BigInteger.One);
    private readonly BigInteger _qMinusOne = q.Subtract(BigInteger.One);

    /// <summary>value mod p and mod q, for value ≥ 0.</summary>
    public Residues Reduce(BigInteger value) =>
        new(backend.ModMultiply(value, BigInteger.One, p), backend.ModMultiply(value, BigInteger.One, q));

    /// <summary>
    /// value^exponent mod p and mod q for a value that is a unit mod N and any integer exponent: the exponent is reduced
    /// mod p-1 and q-1 (Fermat), after adding a multiple of both so no branch depends on its sign.
    /// </summary>
    public Residues Pow(BigInteger value, BigInteger exponent)
    {
        Residues reduced = Reduce(value);
        return new(
            backend.ModPow(reduced.ModP, ReduceExponent(exponent, _pMinusOne), p),
            backend.ModPow(reduced.ModQ, ReduceExponent(exponent, _qMinusOne), q));
    }

    public Residues Multiply(Residues left, Residues right) =>
        new(backend.ModMultiply(left.ModP, right.ModP, p), backend.ModMultiply(left.ModQ, right.ModQ, q));

    /// <summary>Whether value (≥ 0) is a unit mod N: neither p nor q divides it. Two remainders instead of a gcd.</summary>
    public bool IsUnit(BigInteger value)
    {
        Residues reduced = Reduce(value);
        return reduced.ModP.SignValue != 0 && reduced.ModQ.SignValue != 0;
    }

    private BigInteger ReduceExponent(BigInteger exponent, BigInteger order) =>
        backend.ModMultiply(exponent.Add(order.ShiftLeft(exponent.BitLength + 1)), BigInteger.One, order);
}

/// <summary>A value mod p and mod q.</summary>
internal readonly record struct Residues(BigInteger ModP, BigInteger ModQ)
{
    public bool Equals(Residues other) => ModP.Equals(other.ModP) && ModQ.Equals(other.ModQ);

    public override int GetHashCode() => HashCode.Combine(ModP, ModQ);

    // Residues modulo secret primes reveal the primes: never print them.
    public override string ToString() => nameof(Residues);
}
