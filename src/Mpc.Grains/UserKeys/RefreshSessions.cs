using System.Security.Cryptography;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;

namespace Mpc.Grains;

/// <summary>
/// Refreshes (refresh, enrol, backup, restore) and imports in progress, in memory only, keyed by a random refresh id:
/// at most <see cref="MaxPerKey"/> per key and <see cref="MaxImports"/> imports per user, each forgotten (and its
/// secrets disposed) <see cref="SignerOptions.KeyGenSessionLifetime"/> after it began.
/// </summary>
internal sealed class RefreshSessions(SignerOptions options, TimeProvider time)
{
    public const int MaxPerKey = 4;
    public const int MaxImports = 4;

    private readonly Dictionary<string, PendingRefresh> _pending = [];

    public int Imports => _pending.Values.Count(r => r.Purpose == RefreshPurpose.Import);

    public bool AnyFor(string keyId) => _pending.Values.Any(r => r.KeyId == keyId);

    public DateTimeOffset NewExpiry() => time.GetUtcNow() + options.KeyGenSessionLifetime;

    public void RequireRoomFor(string keyId)
    {
        Purge();
        if (_pending.Values.Count(r => r.KeyId == keyId) >= MaxPerKey)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"Key '{keyId}' has {MaxPerKey} refreshes in progress; finish them or let them expire.");
        }
    }

    public void RequireRoomForImport()
    {
        Purge();
        if (Imports >= MaxImports)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"{MaxImports} imports are in progress for this user; finish them or let them expire.");
        }
    }

    /// <summary>
    /// A device refreshes its own pair one session at a time: a new refresh forgets the one it left in progress
    /// (abandoned by a crash, or by a client that started it while its key file was still opening and then could not
    /// open it), so abandoned attempts never fill <see cref="MaxPerKey"/>. Only the same device's own refresh is
    /// replaced: enrolments, backups and restores keep their slots.
    /// </summary>
    public void ReplaceRefreshOf(string keyId, string deviceId)
    {
        foreach (string id in _pending.Where(r => r.Value.KeyId == keyId && r.Value.Purpose == RefreshPurpose.Refresh && r.Value.SourceDeviceId == deviceId)
                     .Select(r => r.Key).ToList())
        {
            Forget(id);
        }
    }

    /// <summary>Keeps the session under a new random refresh id and returns the id.</summary>
    public string Add(PendingRefresh pending)
    {
        string refreshId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _pending[refreshId] = pending;
        return refreshId;
    }

    /// <summary>The key's unexpired session <paramref name="refreshId"/>; NotFound otherwise (an expired one is forgotten).</summary>
    public PendingRefresh Require(string keyId, string refreshId)
    {
        Identifiers.RequireKeyId(keyId);
        if (!_pending.TryGetValue(refreshId ?? "", out PendingRefresh? pending) || pending.KeyId != keyId)
        {
            throw new SignerException(SignerErrorKind.NotFound, "Unknown, expired or finished refresh session; start again.");
        }
        if (pending.ExpiresAt < time.GetUtcNow())
        {
            Forget(refreshId!);
            throw new SignerException(SignerErrorKind.NotFound, "The refresh session expired; start again.");
        }
        return pending;
    }

    /// <summary>Takes the session out without disposing it (its last round disposes it).</summary>
    public void Remove(string refreshId) => _pending.Remove(refreshId);

    /// <summary>Forgets the session and disposes its secrets.</summary>
    public void Forget(string refreshId)
    {
        if (_pending.Remove(refreshId, out PendingRefresh? pending))
        {
            pending.Session.Dispose();
        }
    }

    public void Purge()
    {
        DateTimeOffset now = time.GetUtcNow();
        foreach (string id in _pending.Where(r => r.Value.ExpiresAt < now).Select(r => r.Key).ToList())
        {
            Forget(id);
        }
    }

    public void Clear()
    {
        foreach (PendingRefresh pending in _pending.Values)
        {
            pending.Session.Dispose();
        }
        _pending.Clear();
    }
}

internal sealed record PendingRefresh(
    string KeyId,
    RefreshServerSession Session,
    RefreshPurpose Purpose,
    string? SourceDeviceId,
    byte[] SourceShareId,
    string TargetDeviceId,
    string Label,
    CurveKind Curve,
    DateTimeOffset ExpiresAt,
    ImportStart? Import);
