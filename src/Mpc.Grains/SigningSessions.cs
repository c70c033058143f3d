using System.Collections;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.Signing;

namespace Mpc.Grains;

/// <summary>
/// The signing sessions of one user's grain, in memory only, keyed by the hex server session id.
/// A session is <em>unopened</em> until its SignNonce: k1 is fixed but only its commitment has left the server,
/// so handing one commitment to several callers reveals nothing. Each device keeps at most
/// <see cref="SignerOptions.MaxUnopenedCommitmentsPerDevice"/> of them (plus one per signature of the device in
/// progress), and a caller beyond that gets one of the
/// existing ones (the one handed out longest ago) instead of a new one: clients that throw commitments away (a
/// process that signs once and exits) cannot pile them up. The first SignNonce opens a session for good; it is
/// never handed out or opened again (a second SignNonce for it is NotFound, as if it had never existed) and is
/// forgotten <see cref="SignerOptions.OpenedSignSessionLifetime"/> later if it does not finish. A session forgotten
/// here (removed, expired, cleared) is disposed, which spends it: its k1 and commitment salt do not outlive it.
/// </summary>
internal sealed class SigningSessions(SignerOptions options, TimeProvider time) : IEnumerable<KeyValuePair<string, PendingSign>>
{
    private readonly Dictionary<string, PendingSign> _sessions = [];

    public int Count => _sessions.Count;

    /// <summary>
    /// A commitment for the device: an existing unopened session when the device already holds the maximum,
    /// otherwise a new one from <paramref name="create"/>. Null when the device is full and
    /// <paramref name="reuse"/> is false.
    /// </summary>
    public async Task<SignServerSession?> CommitmentFor(string keyId, string deviceId, Func<Task<SignServerSession>> create, bool reuse = true)
    {
        Purge();
        DateTimeOffset now = time.GetUtcNow();
        List<PendingSign> device = [.. _sessions.Values.Where(s => s.KeyId == keyId && s.DeviceId == deviceId)];
        List<PendingSign> unopened = [.. device.Where(s => !s.Opened)];
        // One more for each of the device's signatures in progress, so that concurrent signers (who hold their next
        // commitment while others finish) rarely share one; opened sessions are themselves capped and short-lived.
        int limit = Math.Max(1, options.MaxUnopenedCommitmentsPerDevice) + (device.Count - unopened.Count);
        if (unopened.Count >= limit)
        {
            if (!reuse)
            {
                return null;
            }
            PendingSign oldest = unopened.MinBy(s => s.HandedOutAt)!;
            oldest.HandedOutAt = now;
            return oldest.Session;
        }
        SignServerSession session = await create();
        _sessions[session.SessionId] = new PendingSign(keyId, deviceId, session) { HandedOutAt = now, ExpiresAt = now + options.SignSessionLifetime };
        return session;
    }

    /// <summary>
    /// The unopened, unexpired session <paramref name="sessionId"/> of the key, or null. An opened session is not
    /// returned (and not touched): whoever opened it finishes it, a second opener starts afresh.
    /// </summary>
    public PendingSign? Unopened(string sessionId, string keyId) =>
        _sessions.TryGetValue(sessionId, out PendingSign? pending) && !pending.Opened && pending.KeyId == keyId && pending.ExpiresAt >= time.GetUtcNow()
            ? pending
            : null;

    /// <summary>Marks the session opened (before its nonce round runs) and gives it the short opened lifetime.</summary>
    public void MarkOpened(PendingSign pending)
    {
        pending.Opened = true;
        pending.ExpiresAt = time.GetUtcNow() + options.OpenedSignSessionLifetime;
    }

    /// <summary>The unexpired session <paramref name="sessionId"/> of the key, opened or not, or null.</summary>
    public PendingSign? Find(string sessionId, string keyId) =>
        _sessions.TryGetValue(sessionId, out PendingSign? pending) && pending.KeyId == keyId && pending.ExpiresAt >= time.GetUtcNow()
            ? pending
            : null;

    public bool TryGetValue(string sessionId, out PendingSign? pending) => _sessions.TryGetValue(sessionId, out pending);

    /// <summary>Forgets the session and spends it.</summary>
    public bool Remove(string sessionId)
    {
        if (!_sessions.Remove(sessionId, out PendingSign? pending))
        {
            return false;
        }
        pending.Session.Dispose();
        return true;
    }

    /// <summary>Forgets and spends every unopened session of the key (its commitments), whichever device holds them.</summary>
    public void RemoveUnopened(string keyId)
    {
        foreach (string id in _sessions.Where(s => !s.Value.Opened && s.Value.KeyId == keyId).Select(s => s.Key).ToList())
        {
            Remove(id);
        }
    }

    /// <summary>Forgets the session without spending it: the caller is finishing it, and disposes it when done.</summary>
    public void Detach(string sessionId) => _sessions.Remove(sessionId);

    /// <summary>Forgets and spends every session.</summary>
    public void Clear()
    {
        foreach (PendingSign pending in _sessions.Values)
        {
            pending.Session.Dispose();
        }
        _sessions.Clear();
    }

    /// <summary>Opened sessions of the key that have not finished (capped by <see cref="SignerOptions.MaxOpenSessionsPerKey"/>).</summary>
    public int OpenedCount(string keyId) => _sessions.Values.Count(s => s.Opened && s.KeyId == keyId);

    /// <summary>Unopened and opened sessions of the key, after dropping expired ones.</summary>
    public SigningSessionCounts Counts(string keyId)
    {
        Purge();
        return new SigningSessionCounts(
            _sessions.Values.Count(s => !s.Opened && s.KeyId == keyId),
            _sessions.Values.Count(s => s.Opened && s.KeyId == keyId),
            _sessions.Values.Where(s => !s.Opened && s.KeyId == keyId).GroupBy(s => s.DeviceId).Select(g => g.Count()).DefaultIfEmpty(0).Max());
    }

    public void Purge()
    {
        DateTimeOffset now = time.GetUtcNow();
        foreach (string id in _sessions.Where(s => s.Value.ExpiresAt < now).Select(s => s.Key).ToList())
        {
            Remove(id);
        }
    }

    public IEnumerator<KeyValuePair<string, PendingSign>> GetEnumerator() => _sessions.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>One signing session of a key's device pair, as the grain tracks it.</summary>
internal sealed class PendingSign(string keyId, string deviceId, SignServerSession session)
{
    public string KeyId { get; } = keyId;

    public string DeviceId { get; } = deviceId;

    public SignServerSession Session { get; } = session;

    /// <summary>Set by the first SignNonce; from then on the session is never handed out again.</summary>
    public bool Opened { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>When the commitment was last given to a caller: the oldest is the one handed out again.</summary>
    public DateTimeOffset HandedOutAt { get; set; }

    /// <summary>When the nonce round finished: the start of the end-to-end latency.</summary>
    public long? NonceAt { get; set; }

    /// <summary>The digest named in the nonce round, for the audit log.</summary>
    public Digest? Digest { get; set; }
}
