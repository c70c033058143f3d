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
public sealed record MpcAuditHead(long Sequence, byte[] Hash);

/// <summary>The outcome of <see cref="MpcAuditLog.Verify"/>.</summary>
/// <param name="IsValid">True when every check held.</param>
/// <param name="Count">Entries checked.</param>
/// <param name="HeadHash">The last entry's hash (empty for an empty chain).</param>
/// <param name="FirstBadSequence">The first entry that failed (a missing one included); null when valid or not attributable to one entry.</param>
/// <param name="Error">Why verification failed; null when valid.</param>
public sealed record MpcAuditVerification(bool IsValid, int Count, byte[] HeadHash, long? FirstBadSequence, string? Error);

/// <summary>Verifies a key's audit hash chain on the client, trusting nothing the server says about it.</summary>
public static class MpcAuditLog
{
    /// <summary>
    /// Checks a whole chain (starting at sequence 1): each sequence follows the previous one, each entry links to
    /// its predecessor's hash (zeros for the first), and each hash recomputes from the entry's fields and
    /// <paramref name="keyId"/>. With <paramref name="expectedHead"/>, also checks that the chain still holds
    /// that entry unchanged.
    /// </summary>
    public static MpcAuditVerification Verify(string keyId, IReadOnlyList<MpcAuditEntry> entries, MpcAuditHead? expectedHead = null)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(entries);
        byte[] previous = AuditChain.GenesisHash();
        for (int i = 0; i < entries.Count; i++)
        {
            MpcAuditEntry entry = entries[i];
            long expected = i + 1;
            if (entry is null)
            {
                return Bad(i, previous, expected, $"entry {expected} is empty");
            }
            if (entry.Sequence != expected)
            {
                return Bad(i, previous, expected, entry.Sequence > expected
                    ? $"entry {expected} is missing (the next entry is {entry.Sequence})"
                    : $"entry {expected} is out of order (found sequence {entry.Sequence})");
            }
            if (entry.PreviousHash is null || !CryptographicOperations.FixedTimeEquals(entry.PreviousHash, previous))
            {
                return Bad(i, previous, expected, $"entry {expected} does not link to entry {expected - 1} (one of them was altered)");
            }
            byte[] hash = AuditChain.Hash(keyId, entry.Sequence, entry.Timestamp.ToUnixTimeMilliseconds(), entry.Event ?? "", entry.DeviceId ?? "",
                entry.Digest ?? [], entry.Outcome ?? "", entry.Detail ?? "", previous);
            if (entry.Hash is null || !CryptographicOperations.FixedTimeEquals(entry.Hash, hash))
            {
                return Bad(i, previous, expected, $"entry {expected} was altered (its hash does not match its contents)");
            }
            previous = hash;
        }
        byte[] head = entries.Count == 0 ? [] : previous;
        if (expectedHead is not null)
        {
            string remembered = Convert.ToHexStringLower(expectedHead.Hash ?? []);
            if (expectedHead.Sequence > 0)
            {
                if (expectedHead.Sequence > entries.Count)
                {
                    return new(false, entries.Count, head, entries.Count + 1,
                        $"the chain ends at entry {entries.Count}, but entry {expectedHead.Sequence} was seen before: the chain was truncated");
                }
                if (!CryptographicOperations.FixedTimeEquals(entries[(int)expectedHead.Sequence - 1].Hash, expectedHead.Hash ?? []))
                {
                    return new(false, entries.Count, head, expectedHead.Sequence,
                        $"entry {expectedHead.Sequence} differs from the one seen before (hash {remembered}): the chain was rewritten");
                }
            }
            else if (!entries.Any(e => CryptographicOperations.FixedTimeEquals(e.Hash, expectedHead.Hash ?? [])))
            {
                return new(false, entries.Count, head, null,
                    $"no entry has the remembered head hash {remembered}: the chain was truncated or rewritten");
            }
        }
        return new(true, entries.Count, head, null, null);
    }

    private static MpcAuditVerification Bad(int checkedCount, byte[] previous, long sequence, string error) =>
        new(false, checkedCount, checkedCount == 0 ? [] : previous, sequence, error);
}
