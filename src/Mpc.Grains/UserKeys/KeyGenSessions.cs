using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;

namespace Mpc.Grains;

/// <summary>
/// Key generations begun and not completed, in memory only: at most <see cref="MaxPending"/> per user, each forgotten
/// (and its secrets disposed) <see cref="SignerOptions.KeyGenSessionLifetime"/> after it began. A key completed with
/// "confirm later" stays here too, as its finished share, until it is confirmed or the same lifetime has passed since
/// its completion: it holds its slot meanwhile, so a client that never confirms still has at most eight.
/// </summary>
internal sealed class KeyGenSessions(SignerOptions options, TimeProvider time)
{
    /// <summary>Key generations one user may have begun and not completed.</summary>
    public const int MaxPending = 8;

    /// <summary>
    /// Of those, completed keys awaiting confirmation: a device has one at a time, and each cost the server a Paillier
    /// key and its proofs without counting against the user's stored keys.
    /// </summary>
    public const int MaxUnconfirmed = 2;

    private readonly Dictionary<string, PendingKeyGen> _pending = [];
    private readonly Dictionary<string, UnconfirmedKey> _unconfirmed = [];

    public int Count => _pending.Count + _unconfirmed.Count;

    public bool Contains(string keyId) => _pending.ContainsKey(keyId) || _unconfirmed.ContainsKey(keyId);

    /// <summary>Keeps <paramref name="session"/> for its key id; ResourceExhausted (and the session disposed) at the cap.</summary>
    public void Add(string keyId, KeyGenServerSession session, CurveKind curve)
    {
        Purge();
        if (Count >= MaxPending)
        {
            session.Dispose();
            throw Full();
        }
        _pending[keyId] = new PendingKeyGen(session, curve, time.GetUtcNow() + options.KeyGenSessionLifetime);
    }

    /// <summary>Has the key id an unexpired session waiting for its completion?</summary>
    public bool IsPending(string keyId)
    {
        Purge();
        return _pending.ContainsKey(keyId);
    }

    /// <summary>Takes the unexpired session of the key id out (the caller disposes it); NotFound when there is none.</summary>
    public PendingKeyGen Take(string keyId)
    {
        Purge();
        return _pending.Remove(keyId, out PendingKeyGen? pending)
            ? pending
            : throw new SignerException(SignerErrorKind.NotFound, "Unknown, expired or finished key generation session.");
    }

    /// <summary>
    /// Keeps the finished share of a key whose completion asked to confirm it later (it takes over the slot of the
    /// session just taken out); forgotten and disposed a lifetime from now unless <see cref="TakeUnconfirmed"/> comes first.
    /// </summary>
    public void AwaitConfirmation(string keyId, ServerKeyShare share) =>
        _unconfirmed[keyId] = new UnconfirmedKey(share, time.GetUtcNow() + options.KeyGenSessionLifetime);

    /// <summary>
    /// How soon a completion refused for <see cref="MaxUnconfirmed"/> may be sent again: a device confirms its key as soon as
    /// it has checked the server's share, within moments, so a client making several keys at once waits this long (the
    /// SDK does) instead of failing.
    /// </summary>
    public static readonly TimeSpan ConfirmationRoomRetry = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// ResourceExhausted, with <see cref="ConfirmationRoomRetry"/> as its RetryAfter, when <see cref="MaxUnconfirmed"/> keys
    /// already await confirmation; checked before a completion's work, so the key generation stays pending and the same
    /// completion may be sent again.
    /// </summary>
    public void RequireConfirmationRoom()
    {
        Purge();
        if (_unconfirmed.Count >= MaxUnconfirmed)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"{MaxUnconfirmed} new keys of this user await confirmation; send this completion again once they are confirmed or expired.")
            {
                RetryAfter = ConfirmationRoomRetry,
            };
        }
    }

    /// <summary>Takes the unexpired, unconfirmed share of the key id out (the caller stores or disposes it); NotFound when there is none.</summary>
    public ServerKeyShare TakeUnconfirmed(string keyId)
    {
        Purge();
        return _unconfirmed.Remove(keyId, out UnconfirmedKey? unconfirmed)
            ? unconfirmed.Share
            : throw new SignerException(SignerErrorKind.NotFound, "Unknown or expired key generation: nothing was stored; generate the key again.");
    }

    /// <summary>At the cap already? Checked before the request's work is done.</summary>
    public void RequireRoom()
    {
        Purge();
        if (Count >= MaxPending)
        {
            throw Full();
        }
    }

    private static SignerException Full() => new(SignerErrorKind.ResourceExhausted,
        $"{MaxPending} key generations are in progress for this user; finish them or let them expire.");

    public void Purge()
    {
        DateTimeOffset now = time.GetUtcNow();
        Forget(_pending, p => p.ExpiresAt < now, p => p.Session.Dispose());
        Forget(_unconfirmed, u => u.ExpiresAt < now, u => u.Share.Dispose());
    }

    public void Clear()
    {
        Forget(_pending, _ => true, p => p.Session.Dispose());
        Forget(_unconfirmed, _ => true, u => u.Share.Dispose());
    }

    /// <summary>Removes the entries <paramref name="which"/> selects and disposes their secrets.</summary>
    private static void Forget<T>(Dictionary<string, T> entries, Func<T, bool> which, Action<T> dispose)
    {
        foreach ((string id, T entry) in entries.Where(e => which(e.Value)).ToList())
        {
            entries.Remove(id);
            dispose(entry);
        }
    }
}

internal sealed record PendingKeyGen(KeyGenServerSession Session, CurveKind Curve, DateTimeOffset ExpiresAt);

internal sealed record UnconfirmedKey(ServerKeyShare Share, DateTimeOffset ExpiresAt);
