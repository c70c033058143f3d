using System.Security.Cryptography;
using System.Text.Json;
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
        // The entry fetched before the lie is printed as it came; no verdict follows it.
        Assert.DoesNotContain("verified", output.ToString(), StringComparison.Ordinal);

        // --json still ends its one document, saying the log was not read to its end.
        var json = new StringWriter();
        await Assert.ThrowsAnyAsync<Exception>(() => AuditCommand.RunAsync(lying, key.KeyId, json: true, null, json, new StringWriter(), CancellationToken.None));
        using JsonDocument document = JsonDocument.Parse(json.ToString());
        Assert.False(document.RootElement.GetProperty("verified").GetBoolean());
        Assert.Single(document.RootElement.GetProperty("entries").EnumerateArray());
    }

    [Fact]
    public async Task Since_a_head_printed_before_only_the_entries_after_it_are_fetched_printed_and_verified()
    {
        using MpcSignerClient client = server.Client("audit-cli-since");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
        await AuditLogs.WaitForEntriesAsync(client, key.KeyId, 2);
        var first = new StringWriter();
        Assert.Equal(0, await AuditCommand.RunAsync(client, key.KeyId, json: false, null, first, new StringWriter(), CancellationToken.None));
        string verdict = first.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("chain verified: 2 entries, head ", verdict, StringComparison.Ordinal);
        string since = "2:" + verdict["chain verified: 2 entries, head ".Length..].Trim();

        byte[] digest = RandomNumberGenerator.GetBytes(32);
        await client.SignDigestAsync(key, digest);
        MpcAuditPage log = await AuditLogs.WaitForEntriesAsync(client, key.KeyId, 3);

        var output = new StringWriter();
        Assert.Equal(0, await AuditCommand.RunAsync(client, key.KeyId, json: false, null, output, new StringWriter(), CancellationToken.None, AuditCommand.ParseSince(since)));
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("     3 ", lines[0], StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(digest), lines[0], StringComparison.Ordinal);
        Assert.Equal($"chain verified: 3 entries, head {Convert.ToHexStringLower(log.HeadHash)} (entries after 2 fetched)", lines[1].TrimEnd());

        var json = new StringWriter();
        Assert.Equal(0, await AuditCommand.RunAsync(client, key.KeyId, json: true, null, json, new StringWriter(), CancellationToken.None, AuditCommand.ParseSince(since)));
        using (JsonDocument document = JsonDocument.Parse(json.ToString()))
        {
            JsonElement root = document.RootElement;
            Assert.True(root.GetProperty("verified").GetBoolean());
            Assert.Equal(3, root.GetProperty("entryCount").GetInt64());
            Assert.Equal(3, Assert.Single(root.GetProperty("entries").EnumerateArray()).GetProperty("sequence").GetInt64());
        }

        // A head the chain holds no longer: another hash at 2 (rewritten), an entry past the end (truncated).
        string other = since[..^1] + (since[^1] == '0' ? '1' : '0');
        var rewritten = new StringWriter();
        Assert.Equal(3, await AuditCommand.RunAsync(client, key.KeyId, json: false, null, new StringWriter(), rewritten, CancellationToken.None, AuditCommand.ParseSince(other)));
        Assert.Contains("BROKEN at sequence 2", rewritten.ToString(), StringComparison.Ordinal);
        Assert.Contains("rewritten", rewritten.ToString(), StringComparison.Ordinal);
        var truncated = new StringWriter();
        Assert.Equal(3, await AuditCommand.RunAsync(client, key.KeyId, json: false, null, new StringWriter(), truncated, CancellationToken.None,
            AuditCommand.ParseSince("9:" + since[2..])));
        Assert.Contains("no longer reaches entry 9", truncated.ToString(), StringComparison.Ordinal);

        // A head without its number cannot be fetched from, and --since with --expect-head is one check too many.
        Assert.Contains("SEQ:HEX", Assert.Throws<CliException>(() => AuditCommand.ParseSince(since[2..])).Message, StringComparison.Ordinal);
        Assert.Contains("SEQ is an entry number from 1", Assert.Throws<CliException>(() => AuditCommand.ParseSince("0:" + since[2..])).Message, StringComparison.Ordinal);
        CliException both = await Assert.ThrowsAsync<CliException>(() => AuditCommand.RunAsync(client, key.KeyId, json: false, AuditCommand.ParseHead(since),
            new StringWriter(), new StringWriter(), CancellationToken.None, AuditCommand.ParseSince(since)));
        Assert.Contains("not both", both.Message, StringComparison.Ordinal);
    }
}
