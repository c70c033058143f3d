using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Mpc.Client;

namespace Mpc.Cli;

/// <summary>`mpc audit`: fetch a key's audit log, print it, verify the chain on this machine.</summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token();
        var keyId = new Option<string>("--key-id") { Description = "The key whose audit log to fetch", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the entries and the verdict as JSON" };
        var expectHead = new Option<string?>("--expect-head")
        {
            Description = "A head remembered from an earlier run, as SEQ:HEX or HEX: fails if the chain no longer holds it (truncated or rewritten)",
        };
        var command = new Command("audit", "Print a key's hash-chained audit log and verify the chain (exit 1 if it does not verify).")
        {
            server, token, keyId, json, expectHead,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(async () =>
        {
            MpcAuditHead? head = ParseHead(parse.GetValue(expectHead));
            using MpcSignerClient client = CommonOptions.Client(parse, server, token);
            return await RunAsync(client, parse.GetValue(keyId)!, parse.GetValue(json), head, Console.Out, Console.Error, cancellationToken);
        }));
        return command;
    }

    internal static async Task<int> RunAsync(
        MpcSignerClient client, string keyId, bool json, MpcAuditHead? expectedHead, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        MpcAuditPage log = await client.GetAuditLogAsync(keyId, cancellationToken);
        MpcAuditVerification result = MpcAuditLog.Verify(keyId, log.Entries, expectedHead);
        if (json)
        {
            await output.WriteLineAsync(ToJson(log, result));
        }
        else
        {
            foreach (MpcAuditEntry e in log.Entries)
            {
                string digest = e.Digest.Length == 0 ? "-" : Convert.ToHexStringLower(e.Digest);
                string detail = e.Detail.Length == 0 ? "" : " " + e.Detail;
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{e.Sequence,6} {e.Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {e.Event,-15} {e.DeviceId,-8} {e.Outcome,-12} {digest}{detail}"));
            }
        }
        if (!result.IsValid)
        {
            string at = result.FirstBadSequence is long bad ? $" at sequence {bad}" : "";
            await error.WriteLineAsync($"error: audit chain of key {keyId} BROKEN{at}: {result.Error}");
            return 1;
        }
        if (!json)
        {
            await output.WriteLineAsync($"chain verified: {result.Count} entries, head {Convert.ToHexStringLower(result.HeadHash)}");
            if (log.Unpersisted > 0)
            {
                await output.WriteLineAsync($"({log.Unpersisted} more events are queued on the server and not yet persisted)");
            }
        }
        return 0;
    }

    internal static MpcAuditHead? ParseHead(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        string[] parts = text.Trim().Split(':');
        long sequence = 0;
        if (parts.Length > 2 || (parts.Length == 2 && (!long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out sequence) || sequence < 1)))
        {
            throw new CliException("--expect-head must be SEQ:HEX or HEX (the head a previous `mpc audit` printed)");
        }
        try
        {
            byte[] hash = Convert.FromHexString(parts[^1]);
            return hash.Length == 32 ? new MpcAuditHead(sequence, hash) : throw new CliException("--expect-head: the hash must be 32 bytes (64 hex digits)");
        }
        catch (FormatException)
        {
            throw new CliException("--expect-head: the hash is not hex");
        }
    }

    private static string ToJson(MpcAuditPage log, MpcAuditVerification result) => JsonSerializer.Serialize(new
    {
        keyId = log.KeyId,
        verified = result.IsValid,
        entryCount = result.Count,
        head = Convert.ToHexStringLower(result.HeadHash),
        firstBadSequence = result.FirstBadSequence,
        error = result.Error,
        unpersisted = log.Unpersisted,
        entries = log.Entries.Select(e => new
        {
            sequence = e.Sequence,
            timestamp = e.Timestamp.ToUnixTimeMilliseconds(),
            @event = e.Event,
            deviceId = e.DeviceId,
            digest = Convert.ToHexStringLower(e.Digest),
            outcome = e.Outcome,
            detail = e.Detail,
            previousHash = Convert.ToHexStringLower(e.PreviousHash),
            hash = Convert.ToHexStringLower(e.Hash),
        }),
    }, IndentedJson);

    private static readonly JsonSerializerOptions IndentedJson = ReadOnly(new JsonSerializerOptions { WriteIndented = true });

    private static JsonSerializerOptions ReadOnly(JsonSerializerOptions options)
    {
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
