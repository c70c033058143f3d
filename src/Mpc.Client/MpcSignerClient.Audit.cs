using System.Runtime.CompilerServices;
using Mpc.Transport.V1;

namespace Mpc.Client;

public sealed partial class MpcSignerClient
{
    /// <summary>
    /// One page of a key's audit log: persisted entries from <paramref name="fromSequence"/> (1 = the first), at
    /// most <paramref name="maxCount"/> (0: the server's maximum, 1000). Verify with <see cref="MpcAuditLog.Verify"/>.
    /// </summary>
    public async Task<MpcAuditPage> GetAuditAsync(string keyId, long fromSequence = 1, int maxCount = 0, CancellationToken cancellationToken = default)
    {
        GetAuditResponse response = await Call(o => _grpc.GetAuditAsync(
            new GetAuditRequest { KeyId = keyId, FromSequence = fromSequence, MaxCount = maxCount }, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        return new MpcAuditPage(keyId, [.. response.Entries.Select(MpcAuditEntry.From)], response.HeadSequence, response.HeadHash.ToByteArray(), response.Unpersisted);
    }

    /// <summary>The largest page the server returns (GetAuditRequest.max_count 0), asked for by name so a shorter page means the log ended.</summary>
    private const int AuditPageSize = 1000;

    /// <summary>
    /// The whole persisted audit log of a key in one page, fetched through <see cref="ReadAuditLogAsync"/> (entries
    /// persisted meanwhile are for the next fetch). A long log is better read page by page with that method and an
    /// <see cref="MpcAuditChainVerifier"/>, which hold one page at a time.
    /// </summary>
    public async Task<MpcAuditPage> GetAuditLogAsync(string keyId, CancellationToken cancellationToken = default)
    {
        MpcAuditPage? first = null;
        var entries = new List<MpcAuditEntry>();
        await foreach (MpcAuditPage page in ReadAuditLogAsync(keyId, 1, cancellationToken).ConfigureAwait(false))
        {
            first ??= page;
            entries.AddRange(page.Entries);
        }
        return first! with { Entries = entries };
    }

    /// <summary>
    /// A key's persisted audit log from <paramref name="fromSequence"/> (1 = the first entry) up to the head the first page
    /// reports, page by page as it is fetched, so the caller holds one page at a time: at least one page, each with the
    /// next entries in sequence order and the first page's head and unpersisted count. A head below
    /// <paramref name="fromSequence"/> gives one empty page (whether that is a truncated chain is the verifier's to say).
    /// Pages that do not add up to that head in sequence order are <see cref="MpcErrorReason.MalformedMessage"/>.
    /// </summary>
    public async IAsyncEnumerable<MpcAuditPage> ReadAuditLogAsync(
        string keyId, long fromSequence = 1, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromSequence, 1);
        MpcAuditPage first = await GetAuditAsync(keyId, fromSequence, AuditPageSize, cancellationToken).ConfigureAwait(false);
        // The head bounds the loop: a server that kept raising it could otherwise keep the client paging forever.
        long head = first.HeadSequence;
        if (head < 0)
        {
            throw MalformedAudit(keyId, $"reports a negative head ({head})");
        }
        long next = fromSequence;
        // Whether the head has been reached; kept apart from next so that a head of long.MaxValue does not overflow it.
        bool atHead = head < fromSequence;
        for (MpcAuditPage page = first; ;)
        {
            if (page.Entries.Count > AuditPageSize)
            {
                throw MalformedAudit(keyId, $"sent {page.Entries.Count} entries in a page of at most {AuditPageSize}");
            }
            var taken = new List<MpcAuditEntry>(Math.Min(page.Entries.Count, AuditPageSize));
            foreach (MpcAuditEntry entry in page.Entries)
            {
                if (atHead)
                {
                    break;
                }
                if (entry.Sequence != next)
                {
                    throw MalformedAudit(keyId, $"sent entry {entry.Sequence} where entry {next} belongs");
                }
                taken.Add(entry);
                atHead = next == head;
                next = atHead ? next : next + 1;
            }
            yield return first with { Entries = taken };
            if (atHead)
            {
                yield break;
            }
            // Every page before the head is full, so each one advances by a whole page and the loop ends at the head.
            if (page.Entries.Count < AuditPageSize)
            {
                throw MalformedAudit(keyId, $"stopped at entry {next - 1} of {head} with a page of {page.Entries.Count}");
            }
            page = await GetAuditAsync(keyId, next, AuditPageSize, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Fetches and verifies a key's audit log page by page without keeping it (<see cref="MpcAuditChainVerifier"/>): the
    /// whole chain, or with <paramref name="since"/> (the <see cref="MpcAuditVerification.Head"/> of an earlier
    /// verification) only the entries after it, which must chain onto it. Remember the result's
    /// <see cref="MpcAuditVerification.Head"/> for the next call. Fetching stops at the first entry that breaks the chain.
    /// </summary>
    public async Task<MpcAuditVerification> VerifyAuditLogAsync(string keyId, MpcAuditHead? since = null, CancellationToken cancellationToken = default)
    {
        MpcAuditChainVerifier verifier = since is null ? MpcAuditChainVerifier.FromStart(keyId) : MpcAuditChainVerifier.ContinuingFrom(keyId, since);
        await foreach (MpcAuditPage page in ReadAuditLogAsync(keyId, verifier.FirstSequence, cancellationToken).ConfigureAwait(false))
        {
            foreach (MpcAuditEntry entry in page.Entries)
            {
                if (!verifier.Add(entry))
                {
                    return verifier.Result();
                }
            }
        }
        return verifier.Result();
    }

    private static MpcSignerException MalformedAudit(string keyId, string problem) =>
        new(MpcErrorReason.MalformedMessage, $"the server's audit log of key {keyId} {problem}");
}
