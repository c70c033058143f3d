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

    /// <summary>The whole persisted audit log of a key, fetched page by page.</summary>
    public async Task<MpcAuditPage> GetAuditLogAsync(string keyId, CancellationToken cancellationToken = default)
    {
        var entries = new List<MpcAuditEntry>();
        MpcAuditPage page;
        do
        {
            page = await GetAuditAsync(keyId, entries.Count + 1, 0, cancellationToken).ConfigureAwait(false);
            entries.AddRange(page.Entries);
        }
        while (page.Entries.Count > 0 && entries.Count < page.HeadSequence);
        return page with { Entries = entries };
    }
}
