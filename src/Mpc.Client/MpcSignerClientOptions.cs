using Mpc.Crypto.BigNum;
using Mpc.Crypto.Proofs;

namespace Mpc.Client;

/// <summary>Settings for <see cref="MpcSignerClient"/>; the defaults suit most applications.</summary>
public sealed class MpcSignerClientOptions
{
    /// <summary>Big-number backend; null uses the process default (OpenSSL when available).</summary>
    public IBigNumBackend? Backend { get; set; }

    /// <summary>
    /// This device's ring-Pedersen parameters for key generation. Null generates them on first use
    /// (two safe primes, 0.1–3 s) and reuses them for the client's lifetime.
    /// </summary>
    public RingPedersenSecret? RingPedersen { get; set; }

    /// <summary>Paillier randomness values each key keeps precomputed in the background (0 disables).</summary>
    public int PrecomputedRandomness { get; set; } = 2;

    /// <summary>Deadline for each call to the server.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>Per-signature choices.</summary>
public sealed record MpcSignOptions
{
    /// <summary>The defaults: low-S.</summary>
    public static MpcSignOptions Default { get; } = new();

    /// <summary>
    /// Normalise s to the lower half of the group order (default true): libsecp256k1, Bitcoin, Ethereum and
    /// @noble/curves refuse the other half. False allows either half (the form plain ECDSA verifiers accept).
    /// </summary>
    public bool LowS { get; init; } = true;
}
