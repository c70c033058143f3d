using System.CommandLine;
using System.Globalization;
using Mpc.Client;

namespace Mpc.Cli;

/// <summary>`mpc audit`: fetch a key's audit log, print it, verify the chain on this machine.</summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token();
        var keyId = new Option<string>("--key-id") { Description = "The key whose audit log to fetch", Required = true };
        Option<bool> json = CommonOptions.Json("the entries and the verdict");
        var expectHead = new Option<string?>("--expect-head")
        {
            Description = $"A head remembered from an earlier run, as {HeadFormat}: fails (exit 3) if the chain no longer holds it (truncated or rewritten)",
        };
        var command = new Command("audit", "Print a key's hash-chained audit log and verify the chain (exit 3 if it does not verify).")
        {
            server, token, keyId, json, expectHead,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
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
        if (!result.IsValid && expectedHead is not null && MpcAuditLog.Verify(keyId, log.Entries).IsValid
            && MisnumberedHead(log.Entries, expectedHead) is long actual)
        {
            // The chain is intact and the hash is one of its entries (each hash covers its own sequence number and the
            // key), only not the one named: a typo in SEQ, not a rewritten chain.
            throw CliException.Usage(
                $"--expect-head names entry {expectedHead.Sequence}, but its hash is entry {actual}'s (the chain holds it): give --expect-head {actual}:{Convert.ToHexStringLower(expectedHead.Hash)}");
        }
        if (json)
        {
            await CliJson.WriteAsync(output, new AuditJson(log.KeyId, result.IsValid, result.Count, Convert.ToHexStringLower(result.HeadHash),
                result.FirstBadSequence, result.Error, log.Unpersisted, log.Entries));
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
            return (int)CliExit.VerificationFailed;
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

    /// <summary>The format --expect-head takes, quoted in every error about it.</summary>
    private const string HeadFormat = "SEQ:HEX (N:H from the line 'chain verified: N entries, head H') or HEX alone";

    /// <summary>The remembered head, or null without one. A malformed value is a usage error naming the format, never a broken chain.</summary>
    internal static MpcAuditHead? ParseHead(string? text)
    {
        if (text is null)
        {
            return null;
        }
        string[] parts = text.Trim().Split(':');
        long sequence = 0;
        if (parts.Length > 2 || (parts.Length == 2 && (!long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out sequence) || sequence < 1)))
        {
            throw CliException.Usage($"--expect-head '{text}' is not {HeadFormat}: SEQ is an entry number from 1");
        }
        byte[] hash;
        try
        {
            hash = Convert.FromHexString(parts[^1]);
        }
        catch (FormatException)
        {
            throw CliException.Usage($"--expect-head '{text}': the hash is not hex; give {HeadFormat}");
        }
        return hash.Length == 32
            ? new MpcAuditHead(sequence, hash)
            : throw CliException.Usage($"--expect-head '{text}': the hash has {hash.Length} bytes, not 32 (64 hex digits); give {HeadFormat}");
    }

    /// <summary>The sequence of the entry whose hash is the remembered one, when that is not the sequence the head names.</summary>
    private static long? MisnumberedHead(IReadOnlyList<MpcAuditEntry> entries, MpcAuditHead? head) =>
        head is { Sequence: > 0, Hash: { } hash } && entries.FirstOrDefault(e => e.Hash is not null && e.Hash.AsSpan().SequenceEqual(hash)) is { } entry
            && entry.Sequence != head.Sequence
            ? entry.Sequence
            : null;

    /// <summary>
    /// The --json document (<see cref="CliJson"/>): the verdict and the SDK's entries as they are.
    /// </summary>
    internal sealed record AuditJson(
        string KeyId, bool Verified, int EntryCount, string Head, long? FirstBadSequence, string? Error, int Unpersisted, IReadOnlyList<MpcAuditEntry> Entries);
}
