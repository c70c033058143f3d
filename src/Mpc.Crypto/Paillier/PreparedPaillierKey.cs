using Mpc.Crypto.Proofs;

namespace Mpc.Crypto.Paillier;

/// <summary>
/// A fresh Paillier key with the server's session-independent work on it done ahead: its ring-Pedersen parameters
/// (s, t) over N (derived from the primes, <see cref="RingPedersenSecret.DeriveFromPaillier"/>) and one set of Πprm
/// masks and commitments for them. Everything session-bound (Πmod, Πfac, the c_key proof, Πprm's challenge and
/// responses) is still computed per session. <see cref="Inline"/> wraps a key made on the request path: nothing
/// prepared, the session derives and commits inline. Owned by one session; the key and the ring-Pedersen secret pass
/// to the key share it makes, the commitments are used up by its Πprm proof.
/// </summary>
public sealed class PreparedPaillierKey : IDisposable
{
    private PreparedPaillierKey(PaillierPrivateKey key, RingPedersenSecret? ringPedersen, RingPedersenCommitments? commitments)
    {
        Key = key;
        RingPedersen = ringPedersen;
        Commitments = commitments;
    }

    public PaillierPrivateKey Key { get; }

    /// <summary>The key's ring-Pedersen secret, or null when it is still to be derived.</summary>
    public RingPedersenSecret? RingPedersen { get; }

    /// <summary>One unused set of Πprm commitments for <see cref="RingPedersen"/>, or null to compute them inline.</summary>
    public RingPedersenCommitments? Commitments { get; }

    /// <summary>
    /// Derives the ring-Pedersen parameters and one set of Πprm commitments: the pool's refill, off the request path,
    /// all of it on the calling thread (the refill's low priority would not carry over to the thread pool).
    /// </summary>
    public static PreparedPaillierKey Prepare(PaillierPrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        RingPedersenSecret ringPedersen = RingPedersenSecret.DeriveFromPaillier(key);
        try
        {
            return new PreparedPaillierKey(key, ringPedersen, RingPedersenCommitments.Compute(ringPedersen, onCallingThread: true));
        }
        catch
        {
            ringPedersen.Dispose();
            throw;
        }
    }

    /// <summary>A key with nothing prepared: the session derives and commits inline, as without a pool.</summary>
    public static PreparedPaillierKey Inline(PaillierPrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new PreparedPaillierKey(key, ringPedersen: null, commitments: null);
    }

    /// <summary>Wipes everything: for a prepared key that no session took (the pool's shutdown).</summary>
    public void Dispose()
    {
        Commitments?.Dispose();
        RingPedersen?.Dispose();
        Key.Dispose();
    }

    public override string ToString() => $"PreparedPaillierKey({Key.PublicKey.BitLength} bits, {(Commitments is null ? "inline" : "prepared")})";
}
