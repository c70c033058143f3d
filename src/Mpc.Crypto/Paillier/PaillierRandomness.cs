using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Paillier;

/// <summary>
/// r^N mod N² for one encryption under one modulus. Single use: a second <see cref="Consume"/> throws,
/// because re-used randomness would let the key owner strip it and read what it was meant to hide.
/// </summary>
public sealed class PaillierRandomness
{
    private readonly BigInteger _modulus;
    private BigInteger? _power;

    internal PaillierRandomness(BigInteger modulus, BigInteger power)
    {
        _modulus = modulus;
        _power = power;
    }

    /// <summary>Whether this randomness was made for modulus <paramref name="n"/>.</summary>
    public bool IsFor(BigInteger n) => _modulus.Equals(n);

    public bool IsConsumed => Volatile.Read(ref _power) is null;

    internal BigInteger Consume(BigInteger n)
    {
        if (!IsFor(n))
        {
            throw new InvalidOperationException("Paillier randomness was precomputed for a different modulus.");
        }
        return Interlocked.Exchange(ref _power, null)
            ?? throw new InvalidOperationException("Paillier randomness has already been used.");
    }

    public override string ToString() => IsConsumed ? "PaillierRandomness(consumed)" : "PaillierRandomness(ready)";
}
