using System.Security.Cryptography;
using Mpc.Protocol.Audit;
using Mpc.Transport.V1;

namespace Mpc.Client;

/// <summary>One entry of a key's audit log, as the server reports it. <see cref="Hash"/> covers every other field.</summary>
/// <param name="Sequence">Position in the chain, from 1.</param>
/// <param name="Timestamp">When the server recorded the event (whole milliseconds, as hashed).</param>
/// <param name="Event">keygen, sign, freeze, import, refresh, device-enrolled, device-revoked, unfreeze, backup, restore, certificate or audit-gap.</param>
/// <param name="DeviceId">The device that asked ("primary" while keys have one device).</param>
/// <param name="Digest">The digest signed or refused; empty when the event names none.</param>
/// <param name="Outcome">ok, refused, frozen, rate-limited, ...</param>
/// <param name="Detail">A short public note.</param>
/// <param name="PreviousHash">The previous entry's hash (32 zero bytes for sequence 1).</param>
/// <param name="Hash">SHA-256 over the entry (docs/service.md, "Audit log and rate limit").</param>
public sealed record MpcAuditEntry(
    long Sequence, DateTimeOffset Timestamp, string Event, string DeviceId, byte[] Digest, string Outcome, string Detail, byte[] PreviousHash, byte[] Hash)
{
    internal static MpcAuditEntry From(AuditEntry entry) => new(
        entry.Sequence,
        ServerTimestamp.From(entry.TimestampUnixMs, $"audit entry {entry.Sequence}"),
        entry.Event,
        entry.DeviceId,
        entry.Digest.ToByteArray(),
        entry.Outcome,
        entry.Detail,
        entry.PreviousHash.ToByteArray(),
        entry.Hash.ToByteArray());
}

/// <summary>
/// Entries of a key's audit log and the server's persisted head. <see cref="Unpersisted"/> events were still
/// queued on the server and are not included.
/// </summary>
/// <param name="KeyId">The key.</param>
/// <param name="Entries">The entries asked for, in sequence order.</param>
/// <param name="HeadSequence">How many entries the server has persisted.</param>
/// <param name="HeadHash">The hash of the last persisted entry (empty when there is none).</param>
/// <param name="Unpersisted">Events the server holds but has not persisted yet.</param>
public sealed record MpcAuditPage(string KeyId, IReadOnlyList<MpcAuditEntry> Entries, long HeadSequence, byte[] HeadHash, int Unpersisted);

/// <summary>
/// A head the caller remembered from an earlier, verified fetch. Handed to <see cref="MpcAuditLog.Verify"/>, it
/// catches a server that truncated the chain or rewrote it from the start (a fresh, self-consistent chain).
/// </summary>
/// <param name="Sequence">The remembered entry's sequence; 0 when only the hash is known.</param>
/// <param name="Hash">The remembered entry's hash.</param>
public sealed record MpcAuditHead(long Sequence, byte[] Hash)
{
    /// <summary>Same sequence and the same hash bytes (a record would compare the arrays by reference).</summary>
    public bool Equals(MpcAuditHead? other) =>
        other is not null && Sequence == other.Sequence && (Hash ?? []).AsSpan().SequenceEqual(other.Hash ?? []);

    public override int GetHashCode() => HashCode.Combine(Sequence, Hash is { Length: >= 4 } ? BitConverter.ToInt32(Hash, 0) : 0);

    /// <summary>SEQ:HEX, the form <c>mpc audit --since</c> and <c>--expect-head</c> take.</summary>
    public override string ToString() => $"{Sequence}:{Convert.ToHexStringLower(Hash ?? [])}";
}

/// <summary>The outcome of <see cref="MpcAuditLog.Verify"/> or of an <see cref="MpcAuditChainVerifier"/>.</summary>
/// <param name="IsValid">True when every check held.</param>
/// <param name="Count">The sequence of the last entry verified: the length of the verified chain, counted from entry 1 also
/// when verification continued from a remembered head.</param>
/// <param name="HeadHash">The last verified entry's hash (empty when none was verified).</param>
/// <param name="FirstBadSequence">The first entry that failed (a missing one included); null when valid or not attributable to one entry.</param>
/// <param name="Error">Why verification failed; null when valid.</param>
public sealed record MpcAuditVerification(bool IsValid, long Count, byte[] HeadHash, long? FirstBadSequence, string? Error)
{
    /// <summary>The head to remember for the next fetch (<see cref="MpcAuditChainVerifier.ContinuingFrom"/>, <c>mpc audit --since</c>).</summary>
    public MpcAuditHead Head => new(Count, HeadHash);
}

/// <summary>Verifies a key's audit hash chain on the client, trusting nothing the server says about it.</summary>
public static class MpcAuditLog
{
    /// <summary>
    /// Checks a whole chain (starting at sequence 1): each sequence follows the previous one, each entry links to
    /// its predecessor's hash (zeros for the first), and each hash recomputes from the entry's fields and
    /// <paramref name="keyId"/>. With <paramref name="expectedHead"/>, also checks that the chain still holds
    /// that entry unchanged. For a log too long to hold, feed an <see cref="MpcAuditChainVerifier"/> page by page.
    /// </summary>
    public static MpcAuditVerification Verify(string keyId, IReadOnlyList<MpcAuditEntry> entries, MpcAuditHead? expectedHead = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        MpcAuditChainVerifier verifier = MpcAuditChainVerifier.FromStart(keyId, expectedHead);
        foreach (MpcAuditEntry entry in entries)
        {
            if (!verifier.Add(entry))
            {
                break;
            }
        }
        return verifier.Result();
    }
}

/// <summary>
/// The checks of <see cref="MpcAuditLog.Verify"/>, one entry at a time: a log of any length is verified in the memory of
/// one entry, as <see cref="MpcSignerClient.ReadAuditLogAsync"/> fetches it page by page. <see cref="ContinuingFrom"/>
/// verifies only what was added after a head verified before, so a periodic check fetches only the new entries.
/// </summary>
public sealed class MpcAuditChainVerifier
{
    private readonly string _keyId;
    private readonly MpcAuditHead? _expectedHead;
    private readonly bool _continuing;
    private byte[]? _previous;
    private long _last;
    private bool _expectedHashSeen;
    private byte[]? _expectedSequenceHash;
    private MpcAuditVerification? _chainFailure;

    private MpcAuditChainVerifier(string keyId, MpcAuditHead? expectedHead, bool continuing)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        _keyId = keyId;
        _expectedHead = expectedHead;
        _continuing = continuing;
        _previous = continuing ? null : AuditChain.GenesisHash();
        FirstSequence = continuing ? expectedHead!.Sequence : 1;
    }

    /// <summary>
    /// A verifier of a whole chain, fed from entry 1; with <paramref name="expectedHead"/> (a head remembered from an
    /// earlier fetch) the chain must still hold that entry unchanged, which catches a server that dropped the newest
    /// entries or rewrote the chain from the start.
    /// </summary>
    public static MpcAuditChainVerifier FromStart(string keyId, MpcAuditHead? expectedHead = null) => new(keyId, expectedHead, continuing: false);

    /// <summary>
    /// A verifier of what follows <paramref name="verifiedHead"/>, a head an earlier verification returned
    /// (<see cref="MpcAuditVerification.Head"/>), fed from that entry itself (<see cref="FirstSequence"/>): its hash must
    /// recompute to the remembered one, and every later entry must chain onto it. The entries before it are taken as
    /// verified then. A chain that no longer reaches it, or holds another entry there, fails as truncated or rewritten.
    /// </summary>
    /// <exception cref="ArgumentException">The head names no entry (sequence below 1) or its hash is not 32 bytes.</exception>
    public static MpcAuditChainVerifier ContinuingFrom(string keyId, MpcAuditHead verifiedHead)
    {
        ArgumentNullException.ThrowIfNull(verifiedHead);
        if (verifiedHead.Sequence < 1 || verifiedHead.Hash is not { Length: AuditChain.HashLength })
        {
            throw new ArgumentException($"a head to continue from names an entry (sequence from 1) and its {AuditChain.HashLength}-byte hash", nameof(verifiedHead));
        }
        return new(keyId, verifiedHead, continuing: true);
    }

    /// <summary>The sequence the first entry fed must have: 1, or the remembered head's when continuing from it.</summary>
    public long FirstSequence { get; }

    /// <summary>True while every entry fed so far has the next sequence, links to its predecessor and hashes to its own hash.</summary>
    public bool ChainHolds => _chainFailure is null;

    /// <summary>
    /// Checks the next entry of the chain; false once the chain is broken (this entry or an earlier one), after
    /// which entries are ignored and <see cref="Result"/> names the first bad one.
    /// </summary>
    public bool Add(MpcAuditEntry entry)
    {
        if (_chainFailure is not null)
        {
            return false;
        }
        if (_last == long.MaxValue)
        {
            // No sequence follows the largest; whatever comes after it is not part of the chain.
            _chainFailure = new(false, _last, _previous ?? [], null, $"an entry follows entry {long.MaxValue}, the last sequence a chain can have");
            return false;
        }
        long expected = _last == 0 ? FirstSequence : _last + 1;
        if (entry is null)
        {
            return Broken(expected, $"entry {expected} is empty");
        }
        if (entry.Sequence != expected)
        {
            return Broken(expected, entry.Sequence > expected
                ? $"entry {expected} is missing (the next entry is {entry.Sequence})"
                : $"entry {expected} is out of order (found sequence {entry.Sequence})");
        }
        // Continuing, the remembered entry's predecessor is not fetched: its own hash, recomputed over the link it
        // carries, must be the remembered one, and that vouches for the link.
        byte[] previous = _previous ?? entry.PreviousHash ?? [];
        if (entry.PreviousHash is null || !CryptographicOperations.FixedTimeEquals(entry.PreviousHash, previous))
        {
            return Broken(expected, $"entry {expected} does not link to entry {expected - 1} (one of them was altered)");
        }
        byte[] hash = AuditChain.Hash(_keyId, entry.Sequence, entry.Timestamp.ToUnixTimeMilliseconds(), entry.Event ?? "", entry.DeviceId ?? "",
            entry.Digest ?? [], entry.Outcome ?? "", entry.Detail ?? "", previous);
        if (entry.Hash is null || !CryptographicOperations.FixedTimeEquals(entry.Hash, hash))
        {
            return Broken(expected, $"entry {expected} was altered (its hash does not match its contents)");
        }
        if (_expectedHead is { } head)
        {
            byte[] remembered = head.Hash ?? [];
            if (head.Sequence == entry.Sequence)
            {
                _expectedSequenceHash = hash;
            }
            _expectedHashSeen |= CryptographicOperations.FixedTimeEquals(hash, remembered);
        }
        _previous = hash;
        _last = entry.Sequence;
        return true;
    }

    /// <summary>The verdict on the entries fed so far, with the remembered head's checks: call it once the log has ended.</summary>
    public MpcAuditVerification Result()
    {
        if (_chainFailure is not null)
        {
            return _chainFailure;
        }
        byte[] head = _previous is null || _last == 0 ? [] : _previous;
        if (_expectedHead is { } expected)
        {
            string remembered = Convert.ToHexStringLower(expected.Hash ?? []);
            if (expected.Sequence > 0)
            {
                if (_expectedSequenceHash is null)
                {
                    return _continuing
                        ? new(false, 0, [], expected.Sequence, $"the chain no longer reaches entry {expected.Sequence}, which was seen before: the chain was truncated")
                        : new(false, _last, head, _last + 1, $"the chain ends at entry {_last}, but entry {expected.Sequence} was seen before: the chain was truncated");
                }
                if (!CryptographicOperations.FixedTimeEquals(_expectedSequenceHash, expected.Hash ?? []))
                {
                    return new(false, _continuing ? 0 : _last, _continuing ? [] : head, expected.Sequence,
                        $"entry {expected.Sequence} differs from the one seen before (hash {remembered}): the chain was rewritten");
                }
            }
            else if (!_expectedHashSeen)
            {
                return new(false, _last, head, null, $"no entry has the remembered head hash {remembered}: the chain was truncated or rewritten");
            }
        }
        return new(true, _last, head, null, null);
    }

    private bool Broken(long sequence, string error)
    {
        byte[] head = _previous is null || _last == 0 ? [] : _previous;
        _chainFailure = new(false, _last, head, sequence, error);
        return false;
    }
}
