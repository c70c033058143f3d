using System.Collections.Concurrent;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Proofs;

/// <summary>
/// A backend that notes each exponentiation: ModPowSecret's exponent and bound in call order, and each ModPow
/// without a bound (which the browser's JS BigInt pads to the modulus' length). Safe for the verifiers' parallel checks.
/// </summary>
internal sealed class BoundRecordingBackend(IBigNumBackend inner) : IBigNumBackend
{
    private readonly ConcurrentQueue<(BigInteger Exponent, int Bits)> _bounded = new();
    private readonly ConcurrentQueue<BigInteger> _unbounded = new();

    /// <summary>Every ModPowSecret, in call order (for calls from one thread).</summary>
    public IReadOnlyList<(BigInteger Exponent, int Bits)> Calls => [.. _bounded];

    /// <summary>The exponents of the ModPow calls made without a bound.</summary>
    public IReadOnlyList<BigInteger> UnboundedExponents => [.. _unbounded];

    public string Name => inner.Name;

    public bool IsConstantTime => inner.IsConstantTime;

    public BigInteger ModPow(BigInteger value, BigInteger exponent, BigInteger modulus)
    {
        _unbounded.Enqueue(exponent);
        return inner.ModPow(value, exponent, modulus);
    }

    public BigInteger ModPowSecret(BigInteger value, BigInteger exponent, BigInteger modulus, int exponentBits)
    {
        _bounded.Enqueue((exponent, exponentBits));
        return inner.ModPowSecret(value, exponent, modulus, exponentBits);
    }

    public BigInteger ModMultiply(BigInteger value, BigInteger factor, BigInteger modulus) => inner.ModMultiply(value, factor, modulus);

    public BigInteger GeneratePrime(int bits, bool blum) => inner.GeneratePrime(bits, blum);

    public BigInteger GenerateSafePrime(int bits) => inner.GenerateSafePrime(bits);

    public bool IsProbablePrime(BigInteger candidate) => inner.IsProbablePrime(candidate);

    IPaillierDecryptionContext IBigNumBackend.CreateDecryptionContext(BigInteger p, BigInteger q) => inner.CreateDecryptionContext(p, q);
}
