using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text;
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
        Option<bool> json = CommonOptions.Json("the entries and the verdict");
        var expectHead = new Option<string?>("--expect-head")
        {
            Description = $"A head remembered from an earlier run, as {HeadFormat}: fails (exit 3) if the chain no longer holds it (truncated or rewritten)",
        };
        var since = new Option<string?>("--since")
        {
            Description = "A head verified by an earlier run, as SEQ:HEX (its last line): fetch, verify and print only the entries after it; "
                + "fails (exit 3) if the chain no longer holds it",
        };
        var command = new Command("audit", "Print a key's hash-chained audit log and verify the chain (exit 3 if it does not verify).")
        {
            server, token, keyId, json, expectHead, since,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            MpcAuditHead? head = ParseHead(parse.GetValue(expectHead));
            MpcAuditHead? after = ParseSince(parse.GetValue(since));
            using MpcSignerClient client = CommonOptions.Client(parse, server, token);
            return await RunAsync(client, parse.GetValue(keyId)!, parse.GetValue(json), head, Console.Out, Console.Error, cancellationToken, after);
        }));
        return command;
    }

    /// <summary>
    /// Fetches, prints and verifies the log page by page (one page in memory, however long the log), from entry 1 or
    /// after <paramref name="since"/>. The verdict comes last: a broken chain or a head the chain no longer holds is exit 3
    /// after the entries, a server that stops short of its head is the error it raises.
    /// </summary>
    internal static async Task<int> RunAsync(
        MpcSignerClient client, string keyId, bool json, MpcAuditHead? expectedHead, TextWriter output, TextWriter error,
        CancellationToken cancellationToken, MpcAuditHead? since = null)
    {
        if (expectedHead is not null && since is not null)
        {
            throw CliException.Usage("give --expect-head or --since, not both: --since already fails if the chain no longer holds its head");
        }
        MpcAuditChainVerifier verifier = since is null ? MpcAuditChainVerifier.FromStart(keyId, expectedHead) : MpcAuditChainVerifier.ContinuingFrom(keyId, since);
        // Only to tell a mistyped SEQ (the hash is another entry's, in an intact chain) from a rewritten chain.
        long? rememberedHashAt = null;
        int unpersisted = 0;
        using AuditJsonWriter? document = json ? new AuditJsonWriter(output, keyId) : null;
        try
        {
            await foreach (MpcAuditPage page in client.ReadAuditLogAsync(keyId, verifier.FirstSequence, cancellationToken))
            {
                unpersisted = page.Unpersisted;
                foreach (MpcAuditEntry e in page.Entries)
                {
                    verifier.Add(e);
                    if (expectedHead is { Sequence: > 0, Hash: { } remembered } && e.Hash is not null && e.Hash.AsSpan().SequenceEqual(remembered))
                    {
                        rememberedHashAt = e.Sequence;
                    }
                    if (since is not null && e.Sequence == since.Sequence)
                    {
                        continue; // the entry continued from, printed by the earlier run
                    }
                    if (document is not null)
                    {
                        document.WriteEntry(e);
                    }
                    else
                    {
                        string digest = e.Digest.Length == 0 ? "-" : Convert.ToHexStringLower(e.Digest);
                        string detail = e.Detail.Length == 0 ? "" : " " + e.Detail;
                        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"{e.Sequence,6} {e.Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {e.Event,-15} {e.DeviceId,-8} {e.Outcome,-12} {digest}{detail}"));
                    }
                }
                if (document is not null)
                {
                    await document.FlushAsync();
                }
            }
        }
        catch (Exception) when (document is not null)
        {
            // The document stays one JSON document; the error itself is the one line on stderr.
            await document.EndAsync(new MpcAuditVerification(false, 0, [], null, "the audit log could not be read to its end (see the error)"), unpersisted);
            throw;
        }
        MpcAuditVerification result = verifier.Result();
        if (document is not null)
        {
            await document.EndAsync(result, unpersisted);
        }
        if (!result.IsValid && expectedHead is not null && verifier.ChainHolds && rememberedHashAt is long actual && actual != expectedHead.Sequence)
        {
            // The chain is intact and the hash is one of its entries (each hash covers its own sequence number and the
            // key), only not the one named: a typo in SEQ, not a rewritten chain.
            throw CliException.Usage(
                $"--expect-head names entry {expectedHead.Sequence}, but its hash is entry {actual}'s (the chain holds it): give --expect-head {actual}:{Convert.ToHexStringLower(expectedHead.Hash)}");
        }
        if (!result.IsValid)
        {
            string at = result.FirstBadSequence is long bad ? $" at sequence {bad}" : "";
            await error.WriteLineAsync($"error: audit chain of key {keyId} BROKEN{at}: {result.Error}");
            return (int)CliExit.VerificationFailed;
        }
        if (!json)
        {
            string from = since is null ? "" : $" (entries after {since.Sequence} fetched)";
            await output.WriteLineAsync($"chain verified: {result.Count} entries, head {Convert.ToHexStringLower(result.HeadHash)}{from}");
            if (unpersisted > 0)
            {
                await output.WriteLineAsync($"({unpersisted} more events are queued on the server and not yet persisted)");
            }
        }
        return 0;
    }

    /// <summary>--expect-head and --since give a head as this, and every error about it quotes it.</summary>
    private const string SequenceAndHash = "SEQ:HEX (N:H from the line 'chain verified: N entries, head H')";

    /// <summary>The format --expect-head takes, quoted in every error about it.</summary>
    private const string HeadFormat = SequenceAndHash + " or HEX alone";

    /// <summary>The remembered head, or null without one. A malformed value is a usage error naming the format, never a broken chain.</summary>
    internal static MpcAuditHead? ParseHead(string? text) => ParseHead(text, "--expect-head", HeadFormat, hashAlone: true);

    /// <summary>The head --since continues from, or null without one: its sequence is needed to fetch from it.</summary>
    internal static MpcAuditHead? ParseSince(string? text) => ParseHead(text, "--since", SequenceAndHash, hashAlone: false);

    private static MpcAuditHead? ParseHead(string? text, string option, string format, bool hashAlone)
    {
        if (text is null)
        {
            return null;
        }
        string[] parts = text.Trim().Split(':');
        long sequence = 0;
        if (parts.Length > 2 || (parts.Length == 1 && !hashAlone)
            || (parts.Length == 2 && (!long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out sequence) || sequence < 1)))
        {
            throw CliException.Usage($"{option} '{text}' is not {format}: SEQ is an entry number from 1");
        }
        byte[] hash;
        try
        {
            hash = Convert.FromHexString(parts[^1]);
        }
        catch (FormatException)
        {
            throw CliException.Usage($"{option} '{text}': the hash is not hex; give {format}");
        }
        return hash.Length == 32
            ? new MpcAuditHead(sequence, hash)
            : throw CliException.Usage($"{option} '{text}': the hash has {hash.Length} bytes, not 32 (64 hex digits); give {format}");
    }

    /// <summary>
    /// The --json document, written as the log is fetched so that only one page is held: <c>keyId</c>, the
    /// <c>entries</c> (the SDK's, as they are), then the verdict (<c>verified</c>, <c>entryCount</c>, <c>head</c>,
    /// <c>firstBadSequence</c>, <c>error</c>) and <c>unpersisted</c>, through <see cref="CliJson"/>'s options.
    /// </summary>
    private sealed class AuditJsonWriter : IDisposable
    {
        private readonly TextWriter _output;
        private readonly ArrayBufferWriter<byte> _buffer = new();
        private readonly Utf8JsonWriter _json;

        public AuditJsonWriter(TextWriter output, string keyId)
        {
            _output = output;
            _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = true, Encoder = CliJson.Default.Options.Encoder });
            _json.WriteStartObject();
            _json.WriteString("keyId", keyId);
            _json.WriteStartArray("entries");
        }

        public void WriteEntry(MpcAuditEntry entry) => JsonSerializer.Serialize(_json, entry, CliJson.Default.MpcAuditEntry);

        public async Task FlushAsync()
        {
            _json.Flush();
            await _output.WriteAsync(Encoding.UTF8.GetString(_buffer.WrittenSpan));
            _buffer.ResetWrittenCount();
        }

        public async Task EndAsync(MpcAuditVerification result, int unpersisted)
        {
            _json.WriteEndArray();
            _json.WriteBoolean("verified", result.IsValid);
            _json.WriteNumber("entryCount", result.Count);
            _json.WriteString("head", Convert.ToHexStringLower(result.HeadHash));
            if (result.FirstBadSequence is long bad)
            {
                _json.WriteNumber("firstBadSequence", bad);
            }
            else
            {
                _json.WriteNull("firstBadSequence");
            }
            _json.WriteString("error", result.Error);
            _json.WriteNumber("unpersisted", unpersisted);
            _json.WriteEndObject();
            await FlushAsync();
            await _output.WriteLineAsync();
        }

        public void Dispose() => _json.Dispose();
    }
}
