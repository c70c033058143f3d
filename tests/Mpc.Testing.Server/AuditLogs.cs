using Mpc.Client;

namespace Mpc.Testing;

/// <summary>Reading a key's audit log in tests.</summary>
public static class AuditLogs
{
    /// <summary>Events reach the audit grain one-way, so a read right after the reply may not see them yet.</summary>
    public static async Task<MpcAuditPage> WaitForEntriesAsync(MpcSignerClient client, string keyId, int count)
    {
        for (int attempt = 0; ; attempt++)
        {
            MpcAuditPage log = await client.GetAuditLogAsync(keyId);
            if (log.Entries.Count >= count || attempt == 100)
            {
                return log;
            }
            await Task.Delay(100);
        }
    }
}
