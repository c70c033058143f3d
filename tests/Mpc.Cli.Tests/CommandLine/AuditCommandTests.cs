using System.Security.Cryptography;
using Mpc.Cli;
using Mpc.Client;
using Mpc.Crypto.Curves;

namespace Mpc.Cli.Tests.CommandLine;

/// <summary>`mpc audit` (its command class, in process) against the test server: the verdict on the chain and its head.</summary>
[Collection("server")]
public sealed class AuditCommandTests(ServerFixture server)
{
    [Fact]
    public async Task Cli_prints_the_verdict_and_fails_on_a_head_the_chain_no_longer_holds()
    {
        using MpcSignerClient client = server.Client("audit-cli");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
        MpcAuditPage log = await AuditLogs.WaitForEntriesAsync(client, key.KeyId, 2);
        string head = Convert.ToHexStringLower(log.HeadHash);

        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await AuditCommand.RunAsync(client, key.KeyId, json: false, AuditCommand.ParseHead("2:" + head), output, error, CancellationToken.None);
        Assert.Equal(0, exit);
        Assert.Contains($"chain verified: 2 entries, head {head}", output.ToString(), StringComparison.Ordinal);

        var json = new StringWriter();
        Assert.Equal(0, await AuditCommand.RunAsync(client, key.KeyId, json: true, null, json, error, CancellationToken.None));
        Assert.Contains("\"verified\": true", json.ToString(), StringComparison.Ordinal);

        var failed = new StringWriter();
        string later = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)); // an entry 3 the chain no longer has
        exit = await AuditCommand.RunAsync(client, key.KeyId, json: false, AuditCommand.ParseHead("3:" + later), new StringWriter(), failed, CancellationToken.None);
        Assert.Equal(3, exit);
        Assert.Contains("BROKEN at sequence 3", failed.ToString(), StringComparison.Ordinal);
    }
}
