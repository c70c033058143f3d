using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Grpc.Core;
using Mpc.Cli;
using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Protocol;

namespace Mpc.Cli.Tests.CommandLine;

/// <summary>
/// `mpc` ends with a code that says what kind of failure it was (usage 2, verification failed 3, refused by the server 4,
/// server unreachable 5, local file or passphrase 6), with one "error: ..." line saying what to do. Run as the real
/// program against a real server; the codes no process can provoke on demand (outcome unknown, cancelled) through
/// <see cref="CliErrors.Describe"/>, the one place that maps failures.
/// </summary>
[Collection("server")]
public sealed class CliExitCodeTests(ServerFixture server) : IDisposable
{
    private const string User = "exit-codes";
    private const string Passphrase = "exit code test passphrase";
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    private string P(string name) => Path.Combine(_root.Path, name);

    /// <summary>Runs mpc with the user's token and, unless given otherwise, the key file passphrase (never one from this process's environment).</summary>
    private ProcessResult Mpc(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var merged = new Dictionary<string, string>
        {
            ["MPC_TOKEN"] = server.Token(User),
            ["MPC_PASSPHRASE"] = Passphrase,
            ["MPC_BACKUP_PASSPHRASE"] = "",
            ["MPC_SERVER"] = "",
        };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            merged[name] = value;
        }
        return ProcessRunner.Mpc(merged, args);
    }

    private ProcessResult Mpc(params string[] args) => Mpc(null, args);

    private string[] Connection => ["--server", server.Address.ToString()];

    /// <summary>
    /// A failure with <paramref name="exit"/>: stderr ends with its only "error: " line, which contains every one of
    /// <paramref name="expected"/> (progress lines may come before it; no stack trace, no help text).
    /// </summary>
    private static string FailedWith(ProcessResult result, CliExit exit, params string[] expected)
    {
        Assert.True((int)exit == result.ExitCode, $"exit {result.ExitCode}, expected {(int)exit} ({exit}): {result.Stderr}");
        string[] lines = result.Stderr.Trim().Split('\n');
        string line = Assert.Single(lines, l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.StartsWith(' ') || l.StartsWith('\t'));
        Assert.Equal(lines[^1], line);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        foreach (string part in expected)
        {
            Assert.Contains(part, line, StringComparison.Ordinal);
        }
        return line;
    }

    private async Task<(string KeyId, string KeyFile)> KeyFileAsync(string name)
    {
        using MpcSignerClient client = server.Client(User);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        string file = P(name);
        ClientKeyFile.Save(file, key.Share, User, KeyFileProtection.Passphrase(Passphrase));
        return (key.KeyId, file);
    }

    [Fact]
    public void Usage_errors_exit_2_with_one_line_instead_of_the_help_text()
    {
        string missing = FailedWith(Mpc("sign"), CliExit.Usage, "Option '--key' is required", "(see mpc sign --help)");
        Assert.DoesNotContain("Description", missing, StringComparison.Ordinal);
        FailedWith(Mpc("device", "list", "--bogus"), CliExit.Usage, "'--bogus'", "(see mpc device list --help)");
        FailedWith(Mpc("verify", "--in", "x", "--sig", "y", "--format", "pem"), CliExit.Usage, "'pem'", "'der' 'raw' 'cms' 'jws'");
        FailedWith(Mpc("keygen", "--curve", "ed25519", "--out", P("k.key"), "--unprotected"), CliExit.Usage, "Unsupported curve 'ed25519'");
        FailedWith(Mpc("device", "list", "--key-id", "k", "--server", "ftp://signer.example"), CliExit.Usage, "not an http(s) URL", "https://HOST:PORT");
        FailedWith(Mpc("audit", "--key-id", "k", "--expect-head", "2:not-hex"), CliExit.Usage, "SEQ:HEX");
        Assert.False(File.Exists(P("k.key")));
    }

    [Fact]
    public async Task A_typo_in_expect_head_is_a_usage_error_and_only_a_head_the_chain_lacks_is_broken()
    {
        (string keyId, string keyFile) = await KeyFileAsync("audit.key");
        File.WriteAllText(P("doc.txt"), "audited\n");
        Assert.Equal(0, Mpc(["sign", .. Connection, "--key", keyFile, "--in", P("doc.txt"), "--out", P("doc.sig")]).ExitCode);
        using MpcSignerClient client = server.Client(User);
        MpcAuditPage log = await AuditLogs.WaitForEntriesAsync(client, keyId, 2);
        Assert.Equal(2, log.Entries.Count);
        string head = Convert.ToHexStringLower(log.HeadHash);
        string[] audit = ["audit", .. Connection, "--key-id", keyId];

        Assert.Equal(0, Mpc([.. audit, "--expect-head", "2:" + head]).ExitCode);
        // The right hash under the wrong number: the chain holds it as entry 2, so it is a typo, not a rewrite.
        string misnumbered = FailedWith(Mpc([.. audit, "--expect-head", "1:" + head]), CliExit.Usage, $"give --expect-head 2:{head}");
        Assert.DoesNotContain("BROKEN", misnumbered, StringComparison.Ordinal);
        FailedWith(Mpc([.. audit, "--expect-head", "2:" + head[..^1]]), CliExit.Usage, "not hex", "SEQ:HEX");
        FailedWith(Mpc([.. audit, "--expect-head", "2:" + head[..^2]]), CliExit.Usage, "31 bytes, not 32", "SEQ:HEX");
        FailedWith(Mpc([.. audit, "--expect-head", "0:" + head]), CliExit.Usage, "SEQ is an entry number from 1");

        // --since continues from the head: nothing after it yet, and the JSON document, written as the log comes, is whole.
        ProcessResult since = Mpc([.. audit, "--since", "2:" + head, "--json"]);
        Assert.True(since.ExitCode == 0, since.Stderr);
        using (JsonDocument document = JsonDocument.Parse(since.Stdout))
        {
            Assert.Empty(document.RootElement.GetProperty("entries").EnumerateArray());
            Assert.Equal(2, document.RootElement.GetProperty("entryCount").GetInt64());
            Assert.Equal(head, document.RootElement.GetProperty("head").GetString());
        }
        FailedWith(Mpc([.. audit, "--since", head]), CliExit.Usage, "--since", "SEQ:HEX");

        // A head this chain does not hold at all is what a rewritten log looks like.
        string other = head[..^1] + (head[^1] == '0' ? '1' : '0');
        FailedWith(Mpc([.. audit, "--expect-head", "2:" + other]), CliExit.VerificationFailed, "BROKEN at sequence 2", "rewritten");
    }

    [Fact]
    public void A_directory_where_a_file_belongs_is_named_as_a_directory_not_as_a_permission_problem()
    {
        // .NET reports opening a directory as "Access to the path ... is denied", which sends a user to chmod.
        string directory = Directory.CreateDirectory(P("not-a-key")).FullName;
        File.WriteAllText(P("doc.txt"), "signed\n");
        string line = FailedWith(Mpc("sign", "--key", directory, "--in", P("doc.txt"), "--out", P("doc.sig"), "--unprotected"), CliExit.LocalInput,
            $"{directory} is a directory, not a file", "check the path");
        Assert.DoesNotContain("permission", line, StringComparison.Ordinal);
        FailedWith(Mpc("verify", "--pub", directory, "--in", P("doc.txt"), "--sig", P("doc.txt")), CliExit.LocalInput, $"{directory} is a directory, not a file");
        // A key file in a directory that does not exist names that directory, not the lock file made beside the key.
        string missing = Path.Combine(directory, "no-such-dir");
        string missingLine = FailedWith(Mpc("keygen", "--out", Path.Combine(missing, "k.key"), "--unprotected", "--server", "http://127.0.0.1:1"),
            CliExit.LocalInput, $"the directory {missing} does not exist: check the path");
        Assert.DoesNotContain(".lock", missingLine, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signature_that_does_not_verify_exits_3()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(P("pub.pem"), key.ExportSubjectPublicKeyInfoPem());
        File.WriteAllText(P("doc.txt"), "signed\n");
        File.WriteAllBytes(P("doc.sig"), key.SignData(File.ReadAllBytes(P("doc.txt")), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        string[] verify = ["verify", "--pub", P("pub.pem"), "--in", P("doc.txt"), "--sig", P("doc.sig")];
        ProcessResult verified = Mpc(verify);
        Assert.Equal((0, "Verified OK"), (verified.ExitCode, verified.Stdout.Trim()));

        File.AppendAllText(P("doc.txt"), "changed\n");
        ProcessResult tampered = Mpc(verify);
        Assert.Equal(((int)CliExit.VerificationFailed, "Verification failure"), (tampered.ExitCode, tampered.Stdout.Trim()));
        File.WriteAllText(P("doc.sig"), "not a signature");
        FailedWith(Mpc(verify), CliExit.VerificationFailed, "not a DER ECDSA signature", "does not verify");
        // An unreadable public key is the user's file, not a failed verification.
        FailedWith(Mpc("verify", "--pub", P("doc.txt"), "--in", P("doc.txt"), "--sig", P("doc.sig")), CliExit.LocalInput, "--pub is not an EC public key");
    }

    [Fact]
    public void A_refusal_by_the_server_exits_4()
    {
        FailedWith(Mpc(["device", "list", .. Connection, "--key-id", "no-such-key"]), CliExit.Refused, "the server refused: NotFound");
        FailedWith(Mpc(["admin", "unfreeze", .. Connection, "--user", User, "--key-id", "no-such-key"]), CliExit.Refused, "the server refused");
    }

    [Fact]
    public void A_server_that_cannot_be_reached_exits_5_and_says_what_to_check()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        string url = $"http://127.0.0.1:{port}";
        string line = FailedWith(Mpc("device", "list", "--server", url, "--key-id", "k"), CliExit.Unreachable,
            $"the server at {url}", "is not reachable (nothing is listening there)", "check the URL and port", "that the server is running");
        Assert.DoesNotContain("subchannel", line, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("refused", line, StringComparison.OrdinalIgnoreCase);

        // https to a server that speaks plain http: the TLS handshake fails, and the hint names --ca-cert and the scheme.
        string https = new UriBuilder(server.Address) { Scheme = "https" }.Uri.ToString();
        FailedWith(Mpc("device", "list", "--server", https, "--key-id", "k"), CliExit.Unreachable, "TLS handshake", "--ca-cert");
    }

    [Fact]
    public async Task Local_file_passphrase_and_key_file_problems_exit_6_and_name_the_real_options()
    {
        (_, string keyFile) = await KeyFileAsync("local.key");
        File.WriteAllText(P("doc.txt"), "local\n");
        string[] Sign(string key, string document = "doc.txt") => ["sign", .. Connection, "--key", key, "--in", P(document), "--out", P("doc.sig")];

        FailedWith(Mpc(Sign(P("missing.key"))), CliExit.LocalInput, "key file not found", "check --key");
        FailedWith(Mpc(new Dictionary<string, string> { ["MPC_PASSPHRASE"] = "not the passphrase" }, Sign(keyFile)), CliExit.LocalInput,
            "wrong passphrase", "check the passphrase");
        File.WriteAllText(P("garbage.key"), "garbage");
        FailedWith(Mpc(Sign(P("garbage.key"))), CliExit.LocalInput, "not valid JSON");
        FailedWith(Mpc(Sign(keyFile, "missing.txt")), CliExit.LocalInput, "file not found", "missing.txt");
        FailedWith(Mpc([.. Sign(keyFile), "--token-file", P("missing-token")]), CliExit.LocalInput, "file not found", "missing-token");
        FailedWith(Mpc(["restore", .. Connection, "--in", keyFile, "--out", P("restored.key")]), CliExit.LocalInput,
            "this is a client key file, not a client share backup", "check which file or token you gave");
        FailedWith(Mpc(["import", .. Connection, "--in", P("doc.txt"), "--out", P("imported.key")]), CliExit.LocalInput,
            "neither PKCS#12 nor PEM", "give --in a PKCS#12");

        // The passphrase hints name options that exist.
        string unset = FailedWith(Mpc([.. Sign(keyFile), "--passphrase-env", "MPC_TEST_UNSET_VARIABLE"]), CliExit.LocalInput,
            "MPC_TEST_UNSET_VARIABLE (named by --passphrase-env) is not set", "leave out --passphrase-env");
        string none = FailedWith(Mpc(new Dictionary<string, string> { ["MPC_PASSPHRASE"] = "" }, Sign(keyFile)), CliExit.LocalInput,
            "set MPC_PASSPHRASE", "--passphrase-env NAME");
        FailedWith(Mpc(["backup", .. Connection, "--key", keyFile, "--out", P("x.backup")]), CliExit.LocalInput,
            "no backup passphrase", "set MPC_BACKUP_PASSPHRASE", "--backup-passphrase-env NAME");
        FailedWith(Mpc(new Dictionary<string, string> { ["MPC_PASSPHRASE"] = "" }, ["keygen", .. Connection, "--out", P("new.key")]), CliExit.LocalInput,
            "--passphrase-env NAME", "--unprotected for a throwaway key");
        foreach (string line in new[] { unset, none })
        {
            Assert.DoesNotContain("the -env option", line, StringComparison.Ordinal);
            Assert.DoesNotContain("--unprotected", line, StringComparison.Ordinal); // it opens no protected file
        }
        Assert.False(File.Exists(P("doc.sig")) || File.Exists(P("x.backup")) || File.Exists(P("new.key")) || File.Exists(P("restored.key")) || File.Exists(P("imported.key")));
    }

    [Theory]
    [InlineData("der")]
    [InlineData("cms")]
    public async Task A_signature_replaces_an_existing_out_file_in_one_step_and_leaves_no_temporary_file(string format)
    {
        (_, string keyFile) = await KeyFileAsync($"replace-{format}.key");
        string certificate = P($"replace-{format}.pem");
        if (format == "cms")
        {
            Assert.Equal(0, Mpc(["cert", .. Connection, "--key", keyFile, "--subject", "CN=replace", "--out", certificate]).ExitCode);
        }
        File.WriteAllText(P("replace.txt"), "replace me\n");
        string directory = Directory.CreateDirectory(P($"out-{format}")).FullName;
        string output = Path.Combine(directory, "doc.sig");
        File.WriteAllText(output, "an older signature");
        // A second name for the old file: a write in place would change what it shows, a rename leaves it alone.
        string oldName = P($"old-{format}.sig");
        Assert.Equal(0, ProcessRunner.Run("ln", [output, oldName], new Dictionary<string, string>()).ExitCode);
        string[] cms = format == "cms" ? ["--format", "cms", "--cert", certificate] : [];

        ProcessResult signed = Mpc(["sign", .. Connection, "--key", keyFile, "--in", P("replace.txt"), "--out", output, .. cms]);

        Assert.True(signed.ExitCode == 0, signed.Stderr);
        Assert.Equal("an older signature", File.ReadAllText(oldName));
        byte[] written = File.ReadAllBytes(output);
        if (format == "der")
        {
            using var publicKey = System.Security.Cryptography.ECDsa.Create();
            publicKey.ImportFromPem(ClientKeyFile.ReadPublicInfo(keyFile).PublicKeyPem);
            Assert.True(publicKey.VerifyData("replace me\n"u8, written, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }
        else
        {
            var cmsSigned = new System.Security.Cryptography.Pkcs.SignedCms(new System.Security.Cryptography.Pkcs.ContentInfo("replace me\n"u8.ToArray()), detached: true);
            cmsSigned.Decode(written);
            cmsSigned.CheckSignature(verifySignatureOnly: true);
        }
        Assert.Equal(["doc.sig"], Directory.GetFiles(directory).Select(Path.GetFileName));
    }

    [Fact]
    public async Task An_out_path_that_cannot_be_written_exits_6_with_one_line_naming_it()
    {
        (_, string keyFile) = await KeyFileAsync("unwritable.key");
        File.WriteAllText(P("unwritable.txt"), "unwritable\n");
        Directory.CreateDirectory(P("a-directory"));
        string[] Sign(string output) => ["sign", .. Connection, "--key", keyFile, "--in", P("unwritable.txt"), "--out", output];

        string missing = FailedWith(Mpc(Sign(P("no-such-directory/doc.sig"))), CliExit.LocalInput,
            $"cannot write {P("no-such-directory/doc.sig")}", "check --out");
        string directory = FailedWith(Mpc(Sign(P("a-directory"))), CliExit.LocalInput, $"cannot write {P("a-directory")}", "check --out");

        Assert.All(new[] { missing, directory }, line => Assert.DoesNotContain(".tmp", line, StringComparison.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(P("a-directory")));
    }

    [Fact]
    public void Unprotected_is_described_as_storing_only_where_a_key_file_is_written()
    {
        static string Description(System.CommandLine.Command command) =>
            Assert.Single(command.Options, o => o.Name == "--unprotected").Description!;

        foreach (System.CommandLine.Command writes in new[] { KeyCommands.KeyGen(), TransferCommands.Import(), TransferCommands.Restore() })
        {
            Assert.StartsWith("Store the new client share without a passphrase", Description(writes), StringComparison.Ordinal);
        }
        foreach (System.CommandLine.Command reads in new[]
        {
            KeyCommands.PublicKey(), KeyCommands.Sign(), DocumentCommands.Cert(), TransferCommands.Backup(), DeviceEnrolmentCommands.Handover(),
            CustodyCommands.Refresh(),
        })
        {
            Assert.StartsWith("Accept a key file stored without a passphrase", Description(reads), StringComparison.Ordinal);
            Assert.DoesNotContain("Store", Description(reads), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Failures_map_to_codes_by_type_reason_and_status_not_by_message()
    {
        const string url = "http://127.0.0.1:9";
        static CliExit Exit(Exception e) => CliErrors.Describe(e, url).Exit;

        (CliExit exit, string message) = CliErrors.Describe(new MpcSignerException(StatusCode.Unavailable, "Unavailable: Error connecting to subchannel."), url);
        Assert.Equal(CliExit.Unreachable, exit);
        Assert.StartsWith($"the server at {url} is not reachable", message, StringComparison.Ordinal);
        Assert.Equal(CliExit.Unreachable, Exit(new MpcSignerException(StatusCode.DeadlineExceeded, "DeadlineExceeded: ")));
        // The same text under another status is a refusal: the status decides.
        Assert.Equal(CliExit.Refused, Exit(new MpcSignerException(StatusCode.PermissionDenied, "Unavailable: Error connecting to subchannel.")));
        Assert.Equal(CliExit.Refused, Exit(new MpcSignerException(StatusCode.Internal, "Internal: storage failed")));
        Assert.Equal(CliExit.OutcomeUnknown, Exit(new MpcRefreshOutcomeUnknownException("The refresh may or may not have completed: timeout")));
        Assert.Equal(CliExit.VerificationFailed, Exit(new MpcSignerException(MpcErrorReason.CodeMismatch, "the code does not match")));
        Assert.Equal(CliExit.VerificationFailed, Exit(new MpcSignerException(MpcErrorReason.HandoverRejected, "not for this request")));
        Assert.Equal(CliExit.LocalInput, Exit(new MpcSignerException(MpcErrorReason.WrongPassphrase, "wrong passphrase")));
        Assert.Equal(CliExit.LocalInput, Exit(new MpcSignerException(MpcErrorReason.ImportWrongPassword, "wrong password")));
        Assert.Equal(CliExit.LocalInput, Exit(new MpcSignerException(MpcErrorReason.KdfDowngrade, "weaker")));
        Assert.Equal(CliExit.Cancelled, Exit(new OperationCanceledException()));
        Assert.Equal(130, (int)CliExit.Cancelled);
        // The SDK's argument refusals (a device label with a bidi mark) read as the rule, without .NET's parameter suffix.
        Assert.Equal((CliExit.Usage, DeviceLabels.Invalid), CliErrors.Describe(new ArgumentException(DeviceLabels.Invalid, "label"), url));
        (CliExit unexpected, string text) = CliErrors.Describe(new InvalidOperationException("first line\nsecond line"), url);
        Assert.Equal(CliExit.Failed, unexpected);
        Assert.StartsWith("unexpected InvalidOperationException: first line second line", text, StringComparison.Ordinal);
    }
}
