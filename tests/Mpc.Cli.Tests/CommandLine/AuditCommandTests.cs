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

    [Fact]
    public async Task A_server_whose_audit_pages_never_reach_its_head_is_a_one_line_error()
    {
        using MpcSignerClient honest = server.Client("audit-cli-lying");
        using MpcKey key = await honest.CreateKeyAsync(CurveKind.P256);
        var wire = new LyingAuditPages(from => LyingAuditPages.Entries(from, 1), headSequence: long.MaxValue / 2);
        using var lying = new MpcSignerClient(server.Address, server.Token("audit-cli-lying"),
            new MpcSignerClientOptions { DeviceProfileStore = server.DeviceProfiles, HttpHandler = wire });

        var output = new StringWriter();
        Exception refused = await Assert.ThrowsAnyAsync<Exception>(
            () => AuditCommand.RunAsync(lying, key.KeyId, json: false, null, output, new StringWriter(), CancellationToken.None));
        (CliExit exit, string line) = CliErrors.Describe(refused, server: null);

        Assert.Equal(CliExit.Failed, exit);
        Assert.Equal($"the server's audit log of key {key.KeyId} stopped at entry 1 of {long.MaxValue / 2} with a page of 1", line);
        Assert.Equal("", output.ToString());
    }
}
