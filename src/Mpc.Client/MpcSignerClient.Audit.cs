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
    /// The whole persisted audit log of a key, fetched page by page up to the head the first page reports (entries
    /// persisted meanwhile are for the next fetch). Pages that do not add up to that head in sequence order are
    /// <see cref="MpcErrorReason.MalformedMessage"/>.
    /// </summary>
    public async Task<MpcAuditPage> GetAuditLogAsync(string keyId, CancellationToken cancellationToken = default)
    {
        MpcAuditPage first = await GetAuditAsync(keyId, 1, AuditPageSize, cancellationToken).ConfigureAwait(false);
        // The head bounds the loop: a server that kept raising it could otherwise keep the client paging forever.
        long head = first.HeadSequence;
        if (head < 0)
        {
            throw MalformedAudit(keyId, $"reports a negative head ({head})");
        }
        var entries = new List<MpcAuditEntry>();
        for (MpcAuditPage page = first; ;)
        {
            if (page.Entries.Count > AuditPageSize)
            {
                throw MalformedAudit(keyId, $"sent {page.Entries.Count} entries in a page of at most {AuditPageSize}");
            }
            foreach (MpcAuditEntry entry in page.Entries)
            {
                if (entries.Count == head)
                {
                    break;
                }
                if (entry.Sequence != entries.Count + 1)
                {
                    throw MalformedAudit(keyId, $"sent entry {entry.Sequence} where entry {entries.Count + 1} belongs");
                }
                entries.Add(entry);
            }
            if (entries.Count == head)
            {
                return first with { Entries = entries };
            }
            // Every page before the head is full, so each one advances by a whole page and the loop ends at the head.
            if (page.Entries.Count < AuditPageSize)
            {
                throw MalformedAudit(keyId, $"stopped at entry {entries.Count} of {head} with a page of {page.Entries.Count}");
            }
            page = await GetAuditAsync(keyId, entries.Count + 1, AuditPageSize, cancellationToken).ConfigureAwait(false);
        }
    }

    private static MpcSignerException MalformedAudit(string keyId, string problem) =>
        new(MpcErrorReason.MalformedMessage, $"the server's audit log of key {keyId} {problem}");
}
