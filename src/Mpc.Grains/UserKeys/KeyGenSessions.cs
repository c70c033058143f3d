using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.KeyGen;

namespace Mpc.Grains;

/// <summary>
/// Key generations begun and not completed, in memory only: at most <see cref="MaxPending"/> per user, each forgotten
/// (and its secrets disposed) <see cref="SignerOptions.KeyGenSessionLifetime"/> after it began.
/// </summary>
internal sealed class KeyGenSessions(SignerOptions options, TimeProvider time)
{
    /// <summary>Key generations one user may have begun and not completed.</summary>
    public const int MaxPending = 8;

    private readonly Dictionary<string, PendingKeyGen> _pending = [];

    public int Count => _pending.Count;

    public bool Contains(string keyId) => _pending.ContainsKey(keyId);

    /// <summary>Keeps <paramref name="session"/> for its key id; ResourceExhausted (and the session disposed) at the cap.</summary>
    public void Add(string keyId, KeyGenServerSession session, CurveKind curve)
    {
        Purge();
        if (_pending.Count >= MaxPending)
        {
            session.Dispose();
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"{MaxPending} key generations are in progress for this user; finish them or let them expire.");
        }
        _pending[keyId] = new PendingKeyGen(session, curve, time.GetUtcNow() + options.KeyGenSessionLifetime);
    }

    /// <summary>Takes the unexpired session of the key id out (the caller disposes it); NotFound when there is none.</summary>
    public PendingKeyGen Take(string keyId)
    {
        Purge();
        return _pending.Remove(keyId, out PendingKeyGen? pending)
            ? pending
            : throw new SignerException(SignerErrorKind.NotFound, "Unknown, expired or finished key generation session.");
    }

    /// <summary>At the cap already? Checked before the request's work is done.</summary>
    public void RequireRoom()
    {
        Purge();
        if (_pending.Count >= MaxPending)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"{MaxPending} key generations are in progress for this user; finish them or let them expire.");
        }
    }

    public void Purge()
    {
        DateTimeOffset now = time.GetUtcNow();
        foreach (string id in _pending.Where(s => s.Value.ExpiresAt < now).Select(s => s.Key).ToList())
        {
            _pending.Remove(id, out PendingKeyGen? expired);
            expired?.Session.Dispose();
        }
    }

    public void Clear()
    {
        foreach (PendingKeyGen pending in _pending.Values)
        {
            pending.Session.Dispose();
        }
        _pending.Clear();
    }
}

internal sealed record PendingKeyGen(KeyGenServerSession Session, CurveKind Curve, DateTimeOffset ExpiresAt);
