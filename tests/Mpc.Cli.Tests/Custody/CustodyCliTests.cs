using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Client.KeyStore;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Cli.Tests.Custody;

/// <summary>
/// The key custody lifecycle through the real `mpc` program: an openssl-made PKCS#12 imported and used for a
/// CMS document that openssl verifies; refresh, backup/restore and a second device, each leaving the old share
/// refused; refusals of bad files that change nothing; the audit log over all of it.
/// </summary>
[Collection("server")]
public sealed partial class CustodyCliTests(ServerFixture server) : IDisposable
{
    // Each test its own user: together they make more new Paillier keys than one user may in the server's rate window.
    private readonly string User = "custody-cli-" + Guid.NewGuid().ToString("N")[..12];
    private readonly TempDirectory _root = new("mpc-custody-cli-");
    private readonly Dictionary<string, string> _environment = new()
    {
        ["MPC_PASSPHRASE"] = "key file passphrase for the test",
        ["MPC_BACKUP_PASSPHRASE"] = "backup passphrase for the test",
        ["P12_PASSWORD"] = "pkcs12 password",
    };

    private string P(string name) => Path.Combine(_root.Path, name);

    private ProcessResult Mpc(params string[] args) => ProcessRunner.Mpc(_environment, args);

    private ProcessResult OpenSsl(params string[] args) => ProcessRunner.Run("openssl", args, _environment);

    private string[] Connection
    {
        get
        {
            _environment["MPC_TOKEN"] = server.Token(User);
            return ["--server", server.Address.ToString()];
        }
    }

    /// <summary>A connection for another user: the token in a file (never on the command line).</summary>
    private string[] ConnectionWithTokenFile(string token)
    {
        string file = P($"token-{Guid.NewGuid():N}");
        File.WriteAllText(file, token + "\n");
        return ["--server", server.Address.ToString(), "--token-file", file];
    }

    private static void Succeeded(ProcessResult result) => Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);

    /// <summary>
    /// A refused command: a failure's exit code (2 to 7 by its kind; CliExitCodeTests checks which), and stderr ends with exactly one "error: ..." line containing <paramref name="expected"/>
    /// (progress lines may come before it).
    /// </summary>
    private static void RefusedWith(ProcessResult result, string expected)
    {
        Assert.InRange(result.ExitCode, 2, 7);
        string[] lines = result.Stderr.Trim().Split('\n');
        string line = Assert.Single(lines, l => l.StartsWith("error", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(lines[^1], line);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.OrdinalIgnoreCase);
    }

    private string SignAndVerify(string keyFile, string publicKeyPem, string name)
    {
        string document = P(name + ".txt");
        File.WriteAllText(document, $"document {name} {Guid.NewGuid()}\n");
        string signature = P(name + ".sig");
        Succeeded(Mpc(["sign", .. Connection, "--key", keyFile, "--in", document, "--out", signature]));
        Succeeded(OpenSsl("dgst", "-sha256", "-verify", publicKeyPem, "-signature", signature, document));
        return signature;
    }

    private static (string Token, string Code) RequestOf(ProcessResult result)
    {
        // Stdout is the request alone: the code is shown on the terminal (stderr), never sent along with the request.
        string code = Regex.Match(result.Stderr, @"Confirmation code: ([0-9A-Z]{4}(-[0-9A-Z]{4}){3})").Groups[1].Value;
        Assert.NotEmpty(code);
        Assert.DoesNotContain(code, result.Stdout, StringComparison.Ordinal);
        return (Assert.Single(result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)), code);
    }

    /// <summary>The code `mpc device handover` shows on the terminal (stderr) only, never with the handover.</summary>
    private static string HandoverCodeOf(string stderr, string stdout)
    {
        string code = HandoverCodeLine().Match(stderr).Groups[1].Value;
        Assert.NotEmpty(code);
        Assert.DoesNotContain(code, stdout, StringComparison.Ordinal);
        return code;
    }

    [GeneratedRegex(@"Handover code: ([0-9A-Z]{4}(-[0-9A-Z]{4}){3})")]
    private static partial Regex HandoverCodeLine();

    private string? KeyIdOf(ProcessResult result) => KeyIdLine().Match(result.Stdout) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex(@"Key id: (\S+)")]
    private static partial Regex KeyIdLine();

    private async Task<int> KeyCount()
    {
        using MpcSignerClient client = server.Client(User);
        return (await client.ListKeysAsync()).Count;
    }

    /// <summary>The stdout of a successful `mpc ... --json`, parsed: one JSON document and nothing else.</summary>
    private JsonElement JsonOf(params string[] args)
    {
        ProcessResult result = Mpc([.. args, "--json"]);
        Succeeded(result);
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    /// <summary>The key <paramref name="keyId"/> in `mpc keys --json`, which lists it exactly once.</summary>
    private JsonElement ListedKey(string[] connection, string keyId) =>
        Assert.Single(JsonOf(["keys", .. connection]).GetProperty("keys").EnumerateArray(), k => k.GetProperty("keyId").GetString() == keyId);

    /// <summary>The device <paramref name="deviceId"/> in `mpc device list --key-id KEY --json`, which lists it exactly once.</summary>
    private JsonElement ListedDevice(string keyId, string deviceId)
    {
        JsonElement listed = JsonOf(["device", "list", .. Connection, "--key-id", keyId]);
        Assert.Equal(keyId, listed.GetProperty("keyId").GetString());
        return Assert.Single(listed.GetProperty("devices").EnumerateArray(), d => d.GetProperty("deviceId").GetString() == deviceId);
    }

    /// <summary>A label as a person may type it: quotes, a backslash, an apostrophe and a non-ASCII letter (the server refuses control characters).</summary>
    private const string LaptopLabel = "Zoë's \"work\" laptop \\ <2>";

    [Fact]
    public async Task A_ca_issued_pkcs12_is_imported_signs_cms_that_openssl_verifies_and_survives_refresh_backup_and_devices()
    {
        // The user's key and certificate as a CA would issue them, packed by openssl.
        Succeeded(OpenSsl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", P("alice-key.pem")));
        Succeeded(OpenSsl("req", "-x509", "-new", "-key", P("alice-key.pem"), "-subj", "/CN=Alice Example/O=Gov Filings", "-days", "30", "-out", P("alice.crt")));
        Succeeded(OpenSsl("pkcs12", "-export", "-inkey", P("alice-key.pem"), "-in", P("alice.crt"), "-out", P("alice.p12"), "-passout", "env:P12_PASSWORD"));
        Succeeded(OpenSsl("pkey", "-in", P("alice-key.pem"), "-pubout", "-out", P("alice-pub.pem")));

        // Bad inputs first: each a one-line error, no key file, no key on the server.
        int keysBefore = await KeyCount();
        byte[] p12 = File.ReadAllBytes(P("alice.p12"));
        File.WriteAllBytes(P("truncated.p12"), p12[..(p12.Length / 2)]);
        RefusedWith(Mpc(["import", .. Connection, "--in", P("truncated.p12"), "--password-env", "P12_PASSWORD", "--out", P("x.key")]), "corrupt");
        _environment["WRONG_PASSWORD"] = "not the password";
        RefusedWith(Mpc(["import", .. Connection, "--in", P("alice.p12"), "--password-env", "WRONG_PASSWORD", "--out", P("x.key")]), "wrong password");
        Succeeded(OpenSsl("genrsa", "-out", P("rsa.pem"), "2048"));
        RefusedWith(Mpc(["import", .. Connection, "--in", P("rsa.pem"), "--out", P("x.key")]), "RSA keys cannot be imported");
        Succeeded(OpenSsl("ecparam", "-name", "brainpoolP256r1", "-genkey", "-noout", "-out", P("brainpool.pem")));
        RefusedWith(Mpc(["import", .. Connection, "--in", P("brainpool.pem"), "--out", P("x.key")]), "brainpoolP256r1");
        Assert.False(File.Exists(P("x.key")));
        Assert.False(File.Exists(P("x.key.pending")));
        Assert.Equal(keysBefore, await KeyCount());

        // Import: the same public key as the original, the certificate kept with the key, a reminder to destroy the file.
        ProcessResult imported = Mpc(["import", .. Connection, "--in", P("alice.p12"), "--password-env", "P12_PASSWORD", "--out", P("alice.key"), "--label", "phone"]);
        Succeeded(imported);
        Assert.Contains("destroy", imported.Stderr, StringComparison.Ordinal);
        string keyId = KeyIdOf(imported) ?? throw new Xunit.Sdk.XunitException(imported.Stdout);
        string importedPem = imported.Stdout[imported.Stdout.IndexOf("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal)..].Trim();
        Assert.Equal(File.ReadAllText(P("alice-pub.pem")).Trim(), importedPem);
        Assert.Equal(keysBefore + 1, await KeyCount());

        // CMS through the key record's certificate, verified by openssl exactly as the issue asks.
        File.WriteAllText(P("filing.xml"), "<filing><amount>1200.00</amount></filing>\n");
        Succeeded(Mpc(["sign", .. Connection, "--key", P("alice.key"), "--format", "cms", "--in", P("filing.xml"), "--out", P("filing.p7s")]));
        Succeeded(OpenSsl("cms", "-verify", "-binary", "-inform", "DER", "-in", P("filing.p7s"), "-content", P("filing.xml"), "-CAfile", P("alice.crt"), "-out", "/dev/null"));
        Succeeded(Mpc("verify", "--format", "cms", "--in", P("filing.xml"), "--signature", P("filing.p7s"), "--ca", P("alice.crt")));

        // Refresh: the old share is refused, the new one signs under the same public key.
        File.Copy(P("alice.key"), P("alice-old.key"));
        Succeeded(Mpc(["refresh", .. Connection, "--key", P("alice.key")]));
        Assert.False(File.Exists(P("alice.key.pending")));
        RefusedWith(Mpc(["sign", .. Connection, "--key", P("alice-old.key"), "--in", P("filing.xml"), "--out", P("old.sig")]), "replaced by a refresh");
        SignAndVerify(P("alice.key"), P("alice-pub.pem"), "after-refresh");

        // Backup and restore: bad passphrase and corrupt file change nothing; a restore uses the backup up.
        Succeeded(Mpc(["backup", .. Connection, "--key", P("alice.key"), "--out", P("alice.backup"), "--label", "safe deposit box"]));
        string devicesBefore = Mpc(["device", "list", .. Connection, "--key-id", keyId]).Stdout;
        _environment["WRONG_BACKUP"] = "not the backup passphrase";
        RefusedWith(Mpc(["restore", .. Connection, "--in", P("alice.backup"), "--backup-passphrase-env", "WRONG_BACKUP", "--out", P("restored.key")]), "wrong passphrase");
        byte[] backup = File.ReadAllBytes(P("alice.backup"));
        byte[] corrupt = (byte[])backup.Clone();
        corrupt[corrupt.Length / 2] ^= 0x40;
        File.WriteAllBytes(P("corrupt.backup"), corrupt);
        RefusedWith(Mpc(["restore", .. Connection, "--in", P("corrupt.backup"), "--out", P("restored.key")]), "backup");
        Assert.False(File.Exists(P("restored.key")));
        Assert.Equal(devicesBefore, Mpc(["device", "list", .. Connection, "--key-id", keyId]).Stdout);
        Succeeded(Mpc(["restore", .. Connection, "--in", P("alice.backup"), "--out", P("restored.key"), "--label", "new phone"]));
        SignAndVerify(P("restored.key"), P("alice-pub.pem"), "after-restore");
        RefusedWith(Mpc(["restore", .. Connection, "--in", P("alice.backup"), "--out", P("again.key")]), "restored to device");

        // Changing a backup's passphrase re-wraps it: the old passphrase no longer opens it.
        Succeeded(Mpc(["backup", .. Connection, "--key", P("alice.key"), "--out", P("second.backup")]));
        _environment["NEW_BACKUP"] = "a new backup passphrase";
        ProcessResult rewrapped = Mpc("passphrase", "--backup", P("second.backup"), "--old-env", "MPC_BACKUP_PASSPHRASE", "--new-env", "NEW_BACKUP");
        Succeeded(rewrapped);
        Assert.Contains("make a new backup and revoke this one", rewrapped.Stderr);
        RefusedWith(Mpc(["restore", .. Connection, "--in", P("second.backup"), "--out", P("second.key")]), "wrong passphrase");
        Succeeded(Mpc(["restore", .. Connection, "--in", P("second.backup"), "--backup-passphrase-env", "NEW_BACKUP", "--out", P("second.key")]));

        // A second device: the new device makes a request and shows its code; the old device is given the token and
        // the code the user reads from the new device's screen.
        ProcessResult request = Mpc("device", "request", "--pending", P("laptop.pending"), "--key-id", keyId);
        Succeeded(request);
        (string requestToken, string code) = RequestOf(request);

        // Substituted in transit: the old device gets another request, the user types the genuine code. Refused
        // before anything is sealed; the attacker's request never receives a handover.
        ProcessResult attackerRequest = Mpc("device", "request", "--pending", P("attacker.pending"), "--key-id", keyId);
        Succeeded(attackerRequest);
        ProcessResult diverted = Mpc(["device", "handover", .. Connection, "--key", P("alice.key"), "--request", RequestOf(attackerRequest).Token, "--code", code, "--out", P("attacker.handover")]);
        RefusedWith(diverted, "confirmation code does not match");
        Assert.DoesNotContain(RequestOf(attackerRequest).Code, diverted.Stderr + diverted.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(P("attacker.handover")));

        // A handover made for another request: enrol refuses it and destroys its own pending request.
        ProcessResult spareRequest = Mpc("device", "request", "--pending", P("spare.pending"), "--key-id", keyId);
        Succeeded(spareRequest);
        ProcessResult other = Mpc(["device", "handover", .. Connection, "--key", P("alice.key"), "--request", RequestOf(attackerRequest).Token, "--code", RequestOf(attackerRequest).Code, "--out", P("other.handover"), "--no-wait"]);
        Succeeded(other);
        Assert.DoesNotContain(HandoverCodeOf(other.Stderr, other.Stdout), File.ReadAllText(P("other.handover")), StringComparison.Ordinal);
        RefusedWith(Mpc(["device", "enrol", .. Connection, "--pending", P("spare.pending"), "--handover", P("other.handover"), "--handover-code", HandoverCodeOf(other.Stderr, other.Stdout), "--out", P("spare.key")]), "another enrolment request");
        Assert.False(File.Exists(P("spare.pending")));
        Assert.False(File.Exists(P("spare.key")));

        // The genuine handover: the old device waits for the enrolment, then refreshes its own pair, so the share
        // that travelled in the handover (and every earlier copy of the old device's file) stops signing.
        File.Copy(P("alice.key"), P("alice-before-handover.key"));
        string[] connection = Connection;
        // The user reads the handover code off the old device's terminal while it waits, and types it on the new one.
        ProcessResult enrolled, handedOver;
        string handoverCode;
        using (System.Diagnostics.Process handingOver = ProcessRunner.StartMpc(_environment,
            ["device", "handover", .. connection, "--key", P("alice.key"), "--request", requestToken, "--code", code.ToLowerInvariant(), "--out", P("laptop.handover")]))
        {
            try
            {
                string shownStderr = ReadStderrUntil(handingOver, "Handover code: ");
                handoverCode = HandoverCodeOf(shownStderr, "");
                enrolled = Mpc(["device", "enrol", .. Connection, "--pending", P("laptop.pending"), "--handover", P("laptop.handover"), "--handover-code", handoverCode, "--out", P("laptop.key"), "--label", LaptopLabel]);
                handedOver = await ResultOfAsync(handingOver, shownStderr);
            }
            finally
            {
                if (!handingOver.HasExited)
                {
                    handingOver.Kill(entireProcessTree: true);
                }
            }
        }
        Succeeded(enrolled);
        Assert.False(File.Exists(P("laptop.pending")));
        string laptopDevice = Regex.Match(enrolled.Stdout, @"Device id: (\S+)").Groups[1].Value;
        Succeeded(handedOver);
        Assert.DoesNotContain(handoverCode, handedOver.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Enrolled device: {laptopDevice}", handedOver.Stdout, StringComparison.Ordinal);
        SignAndVerify(P("laptop.key"), P("alice-pub.pem"), "laptop");
        SignAndVerify(P("alice.key"), P("alice-pub.pem"), "phone-still");
        RefusedWith(Mpc(["sign", .. Connection, "--key", P("alice-before-handover.key"), "--in", P("filing.xml"), "--out", P("stale.sig")]), "replaced by a refresh");

        // Revoking the laptop: its share no longer signs; the phone's does.
        Succeeded(Mpc(["device", "revoke", .. Connection, "--key-id", keyId, "--device", laptopDevice]));
        RefusedWith(Mpc(["sign", .. Connection, "--key", P("laptop.key"), "--in", P("filing.xml"), "--out", P("laptop2.sig")]), "revoked");
        SignAndVerify(P("alice.key"), P("alice-pub.pem"), "phone-after-revoke");
        string devices = Mpc(["device", "list", .. Connection, "--key-id", keyId]).Stdout;
        Assert.Contains(laptopDevice, devices, StringComparison.Ordinal);
        Assert.Matches(new Regex($@"{laptopDevice}\s+device\s+revoked"), devices);
        // The JSON form: the label exactly as the server holds it (quotes, backslash, non-ASCII escaped by JSON, not replaced).
        JsonElement laptop = ListedDevice(keyId, laptopDevice);
        Assert.Equal(LaptopLabel, laptop.GetProperty("label").GetString());
        Assert.Equal("device", laptop.GetProperty("kind").GetString());
        Assert.Equal("revoked", laptop.GetProperty("state").GetString());
        Assert.True(laptop.GetProperty("revokedAt").GetInt64() >= laptop.GetProperty("createdAt").GetInt64());
        JsonElement[] listedDevices = [.. JsonOf(["device", "list", .. Connection, "--key-id", keyId]).GetProperty("devices").EnumerateArray()];
        Assert.Contains(listedDevices, d => d.GetProperty("label").GetString() == "phone" && d.GetProperty("state").GetString() == "active");
        Assert.Contains(listedDevices, d => d.GetProperty("label").GetString() == "safe deposit box" && d.GetProperty("kind").GetString() == "backup");
        JsonElement importedKey = ListedKey(Connection, keyId);
        Assert.True(importedKey.GetProperty("imported").GetBoolean());
        Assert.Equal(X509CertificateLoader.LoadCertificateFromFile(P("alice.crt")).Subject, importedKey.GetProperty("certificateSubject").GetString());

        // The audit log holds every step, and its chain verifies.
        ProcessResult audit = Mpc(["audit", .. Connection, "--key-id", keyId]);
        Succeeded(audit);
        foreach (string kind in new[] { "import", "sign", "refresh", "backup", "restore", "device-enrolled", "device-revoked" })
        {
            Assert.Contains(kind, audit.Stdout, StringComparison.Ordinal);
        }
        Assert.Contains("chain verified", audit.Stdout, StringComparison.Ordinal);

        // The JSON form: the SDK's entries with camelCase names, bytes as lower-case hex, times as Unix milliseconds.
        ProcessResult json = Mpc(["audit", .. Connection, "--key-id", keyId, "--json"]);
        Succeeded(json);
        using var document = System.Text.Json.JsonDocument.Parse(json.Stdout);
        System.Text.Json.JsonElement root = document.RootElement;
        Assert.True(root.GetProperty("verified").GetBoolean());
        System.Text.Json.JsonElement[] entries = [.. root.GetProperty("entries").EnumerateArray()];
        Assert.Equal(root.GetProperty("entryCount").GetInt32(), entries.Length);
        Assert.Equal(
            ["sequence", "timestamp", "event", "deviceId", "digest", "outcome", "detail", "previousHash", "hash"],
            entries[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, entries[0].GetProperty("sequence").GetInt64());
        Assert.True(entries[0].GetProperty("timestamp").GetInt64() > 1_700_000_000_000);
        Assert.Equal(new string('0', 64), entries[0].GetProperty("previousHash").GetString());
        Assert.Equal(root.GetProperty("head").GetString(), entries[^1].GetProperty("hash").GetString());
        Assert.Contains(entries, e => e.GetProperty("event").GetString() == "sign" && e.GetProperty("digest").GetString() is { Length: 64 } hex && hex.All(c => char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c)));
    }

    [Fact]
    public async Task Only_an_operator_unfreezes_a_key_and_its_device_must_refresh_before_signing()
    {
        const string owner = "custody-cli-frozen";
        string keyFile = P("frozen.key");
        string keyId;
        using (MpcSignerClient client = server.Client(owner))
        using (MpcKey key = await client.CreateKeyAsync(Crypto.Curves.CurveKind.P256))
        using (RawSigner raw = server.Raw(server.Token(owner)))
        {
            keyId = key.KeyId;
            ClientKeyFile.Save(keyFile, key.Share, owner, KeyFileProtection.Passphrase(_environment["MPC_PASSPHRASE"]));
            // An abort-attack c3 is refused before decryption and freezes nothing; the freeze is written to storage.
            Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, await AbortAttack.SendAsync(raw, key));
        }
        await server.FreezeInStorageAsync(owner, keyId);
        string[] ownerConnection = ConnectionWithTokenFile(server.Token(owner));
        // `mpc keys` shows the freeze before anything is refused, and says who lifts it.
        ProcessResult listed = Mpc(["keys", .. ownerConnection]);
        Succeeded(listed);
        Assert.Matches($@"(?m)^{keyId}\s+P-256\s+frozen\s", listed.Stdout);
        Assert.Contains("mpc admin unfreeze", listed.Stderr, StringComparison.Ordinal);
        Assert.Equal("frozen", ListedKey(ownerConnection, keyId).GetProperty("status").GetString());
        File.WriteAllText(P("d.txt"), "after the freeze\n");
        RefusedWith(Mpc(["sign", .. ownerConnection, "--key", keyFile, "--in", P("d.txt"), "--out", P("d.sig")]), "frozen");
        RefusedWith(Mpc(["refresh", .. ownerConnection, "--key", keyFile]), "only an operator");

        RefusedWith(Mpc(["admin", "unfreeze", .. ownerConnection, "--user", owner, "--key-id", keyId]), "PermissionDenied");
        ProcessResult unfrozen = Mpc(["admin", "unfreeze", .. ConnectionWithTokenFile(server.AdminToken()), "--user", owner, "--key-id", keyId]);
        Succeeded(unfrozen);
        Assert.Contains("must run mpc refresh", unfrozen.Stdout, StringComparison.Ordinal);

        RefusedWith(Mpc(["sign", .. ownerConnection, "--key", keyFile, "--in", P("d.txt"), "--out", P("d.sig")]), "must be refreshed");
        Succeeded(Mpc(["refresh", .. ownerConnection, "--key", keyFile]));
        Succeeded(Mpc(["sign", .. ownerConnection, "--key", keyFile, "--in", P("d.txt"), "--out", P("d.sig")]));
        ProcessResult active = Mpc(["keys", .. ownerConnection]);
        Succeeded(active);
        Assert.Matches($@"(?m)^{keyId}\s+P-256\s+active\s", active.Stdout);
        Assert.Equal("", active.Stderr);
        JsonElement listedKey = ListedKey(ownerConnection, keyId);
        Assert.Equal("active", listedKey.GetProperty("status").GetString());
        Assert.Equal("P-256", listedKey.GetProperty("curve").GetString());
        Assert.Equal(JsonValueKind.Null, listedKey.GetProperty("certificateSubject").ValueKind);
        Assert.False(listedKey.GetProperty("imported").GetBoolean());
    }

    [Fact]
    public void Keys_and_device_list_as_json_name_the_key_keygen_made_and_its_one_device()
    {
        // A new user: the list is there, and empty.
        Assert.Empty(JsonOf(["keys", .. Connection]).GetProperty("keys").EnumerateArray());

        ProcessResult made = Mpc(["keygen", .. Connection, "--curve", "secp256k1", "--out", P("listed.key")]);
        Succeeded(made);
        string keyId = KeyIdOf(made)!;

        JsonElement keys = JsonOf(["keys", .. Connection]);
        JsonElement key = Assert.Single(keys.GetProperty("keys").EnumerateArray());
        Assert.Equal(["keyId", "curve", "status", "createdAt", "certificateSubject", "imported"], key.EnumerateObject().Select(p => p.Name));
        Assert.Equal(keyId, key.GetProperty("keyId").GetString());
        Assert.Equal("secp256k1", key.GetProperty("curve").GetString());
        Assert.Equal("active", key.GetProperty("status").GetString());
        Assert.InRange(DateTimeOffset.FromUnixTimeMilliseconds(key.GetProperty("createdAt").GetInt64()), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(JsonValueKind.Null, key.GetProperty("certificateSubject").ValueKind);

        JsonElement device = Assert.Single(JsonOf(["device", "list", .. Connection, "--key-id", keyId]).GetProperty("devices").EnumerateArray());
        Assert.Equal(["deviceId", "kind", "label", "state", "createdAt", "refreshedAt", "revokedAt", "shareId"], device.EnumerateObject().Select(p => p.Name));
        KeyFileInfo keyFile = ClientKeyFile.ReadPublicInfo(P("listed.key"));
        Assert.Equal(keyFile.DeviceId, device.GetProperty("deviceId").GetString());
        Assert.Equal(keyFile.ShareId, device.GetProperty("shareId").GetString());
        Assert.Equal("device", device.GetProperty("kind").GetString());
        Assert.Equal("active", device.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, device.GetProperty("refreshedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, device.GetProperty("revokedAt").ValueKind);
    }

    [Fact]
    public async Task Pubkey_authenticates_the_header_and_a_refresh_keeps_the_files_argon2id_parameters()
    {
        string keyFile = P("strong.key");
        string otherPem;
        var strong = Argon2idParameters.Create(4, 64 * 1024, 4, 16);
        using (MpcSignerClient client = server.Client(User))
        using (MpcKey key = await client.CreateKeyAsync(Crypto.Curves.CurveKind.P256))
        using (MpcKey other = await client.CreateKeyAsync(Crypto.Curves.CurveKind.P256))
        {
            ClientKeyFile.Save(keyFile, key.Share, User, KeyFileProtection.Passphrase(_environment["MPC_PASSPHRASE"], strong));
            otherPem = other.PublicKeyPem;
        }
        string genuinePem = ClientKeyFile.ReadPublicInfo(keyFile).PublicKeyPem;

        ProcessResult verified = Mpc("pubkey", "--key", keyFile);
        Succeeded(verified);
        Assert.Equal(genuinePem, verified.Stdout);

        // Whoever can edit the file swaps in another key's public key: pubkey refuses, --unverified marks it.
        var edited = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(keyFile))!;
        edited["publicKeyPem"] = otherPem;
        string tampered = P("tampered.key");
        File.WriteAllText(tampered, edited.ToJsonString());
        ProcessResult refused = Mpc("pubkey", "--key", tampered);
        Assert.Equal(6, refused.ExitCode);
        Assert.DoesNotContain("BEGIN PUBLIC KEY", refused.Stdout, StringComparison.Ordinal);
        ProcessResult unverified = Mpc("pubkey", "--key", tampered, "--unverified");
        Succeeded(unverified);
        Assert.StartsWith("# UNVERIFIED", unverified.Stdout, StringComparison.Ordinal);
        Assert.Contains("UNVERIFIED", unverified.Stderr, StringComparison.Ordinal);

        // A refresh writes the new share under the file's own (stronger than default) parameters.
        Succeeded(Mpc(["refresh", .. Connection, "--key", keyFile]));
        Assert.Equal(strong, ClientKeyFile.ReadPublicInfo(keyFile).Kdf);
        Assert.NotEqual(Argon2idParameters.Recommended, strong);
    }

    [Fact]
    public void A_refresh_that_starts_before_its_key_file_opens_changes_nothing_when_the_file_does_not_open()
    {
        // The refresh's first round trips run while the file decrypts: a wrong passphrase or an edited clear header
        // is still the one error reported, and the server keeps the share the untouched file holds.
        string keyFile = P("opening.key");
        ProcessResult made = Mpc(["keygen", .. Connection, "--out", keyFile]);
        Succeeded(made);
        string publicKeyPem = P("opening-pub.pem");
        File.WriteAllText(publicKeyPem, ClientKeyFile.ReadPublicInfo(keyFile).PublicKeyPem);
        byte[] original = File.ReadAllBytes(keyFile);

        _environment["WRONG_PASSPHRASE"] = "not the key file's passphrase";
        // The key file's error, not the profile's (both fail under a mistyped passphrase; the profile's would advise
        // --regenerate, which would seal a new profile under the typo). Five times: abandoned refreshes do not pile up.
        for (int i = 0; i < 5; i++)
        {
            ProcessResult mistyped = Mpc(["refresh", .. Connection, "--key", keyFile, "--passphrase-env", "WRONG_PASSPHRASE"]);
            RefusedWith(mistyped, "wrong passphrase or corrupted key file");
            Assert.DoesNotContain("regenerate", mistyped.Stderr, StringComparison.Ordinal);
        }
        var edited = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(keyFile))!;
        edited["deviceId"] = "device-someone-else";
        string tampered = P("opening-tampered.key");
        File.WriteAllText(tampered, edited.ToJsonString());
        RefusedWith(Mpc(["refresh", .. Connection, "--key", tampered]), "modified file");

        Assert.Equal(original, File.ReadAllBytes(keyFile));
        Assert.False(File.Exists(keyFile + ".pending"));
        SignAndVerify(keyFile, publicKeyPem, "after-refused-refreshes");

        // And with the right passphrase, twice (the second from the file the first one wrote), the new share signs.
        ProcessResult verbose = Mpc(["refresh", .. Connection, "--key", keyFile, "--verbose"]);
        Succeeded(verbose);
        Assert.Contains("while waiting for the server", verbose.Stderr, StringComparison.Ordinal);
        Succeeded(Mpc(["refresh", .. Connection, "--key", keyFile]));
        Assert.NotEqual(original, File.ReadAllBytes(keyFile));
        SignAndVerify(keyFile, publicKeyPem, "after-opening-refreshes");
    }

    [Fact]
    public void Enrol_refuses_a_wrong_or_missing_handover_code_in_one_line_and_keeps_the_pending_file_byte_for_byte()
    {
        string keyFile = P("coded.key"), pending = P("coded.pending"), newKeyFile = P("coded-new.key");
        ProcessResult made = Mpc(["keygen", .. Connection, "--out", keyFile]);
        Succeeded(made);
        File.WriteAllText(P("coded-pub.pem"), ClientKeyFile.ReadPublicInfo(keyFile).PublicKeyPem);
        ProcessResult request = Mpc("device", "request", "--pending", pending, "--key-id", KeyIdOf(made)!);
        Succeeded(request);
        (string token, string code) = RequestOf(request);
        // Two handovers to the one request, each with its own code.
        ProcessResult first = Mpc(["device", "handover", .. Connection, "--key", keyFile, "--request", token, "--code", code, "--out", P("first.handover"), "--no-wait"]);
        ProcessResult second = Mpc(["device", "handover", .. Connection, "--key", keyFile, "--request", token, "--code", code, "--out", P("second.handover"), "--no-wait"]);
        Succeeded(first);
        Succeeded(second);
        string firstCode = HandoverCodeOf(first.Stderr, first.Stdout), secondCode = HandoverCodeOf(second.Stderr, second.Stdout);
        string mistyped = firstCode[..^1] + (firstCode[^1] == 'Z' ? 'Y' : 'Z');
        byte[] pendingBefore = File.ReadAllBytes(pending);

        foreach ((string handover, string typed) in new[] { ("first.handover", mistyped), ("first.handover", secondCode), ("second.handover", code) })
        {
            ProcessResult refused = Mpc(["device", "enrol", .. Connection, "--pending", pending, "--handover", P(handover), "--handover-code", typed, "--out", newKeyFile]);
            RefusedWith(refused, "the handover code does not match this handover");
            Assert.Contains("this enrolment request still waits for the genuine handover", refused.Stderr, StringComparison.Ordinal);
            Assert.Single(refused.Stderr.Trim().Split('\n'));
            Assert.Equal(pendingBefore, File.ReadAllBytes(pending));
            Assert.False(File.Exists(newKeyFile));
        }
        // No code at all, and no terminal to ask on: refused before anything is opened.
        ProcessResult missing = Mpc(["device", "enrol", .. Connection, "--pending", pending, "--handover", P("second.handover"), "--out", newKeyFile]);
        RefusedWith(missing, "give --handover-code");
        Assert.Equal(pendingBefore, File.ReadAllBytes(pending));
        Assert.False(File.Exists(newKeyFile));

        // The pending request still opens a handover with that handover's code, typed as people type it.
        ProcessResult enrolled = Mpc(["device", "enrol", .. Connection, "--pending", pending, "--handover", P("second.handover"), "--handover-code", secondCode.ToLowerInvariant().Replace("-", " "), "--out", newKeyFile]);
        Succeeded(enrolled);
        Assert.False(File.Exists(pending));
        SignAndVerify(newKeyFile, P("coded-pub.pem"), "after-handover-code");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // a script without --handover-code hears that the request expired, not that a code is missing
    public void Enrol_with_an_expired_request_refuses_and_destroys_the_pending_file(bool withCode)
    {
        // A request made 20 minutes ago, and a genuine handover sealed to it while it was fresh: only the clock
        // check stands between them, so the pending file (whose key opens the handover at any time) must go.
        var then = new ManualTime(DateTimeOffset.UtcNow - DeviceEnrolmentRequest.Lifetime - TimeSpan.FromMinutes(5));
        const string keyId = "key-expired-enrolment";
        string pending = P("expired.pending");
        EcCurve curve = EcCurve.Get(CurveKind.P256);
        var identity = new HandoverIdentity(User, keyId, "device-0123456789abcdef", CurveKind.P256, curve.EncodePoint(curve.MultiplyBase(curve.RandomScalar())));
        string handoverCode;
        using (DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(keyId, then))
        {
            File.WriteAllBytes(pending, request.ExportPending(_environment["MPC_PASSPHRASE"]));
            SealedHandover sealedHandover = DeviceHandover.Seal(request.Request.ToToken(), request.Request.ConfirmationCode,
                RandomNumberGenerator.GetBytes(96), identity, then);
            File.WriteAllText(P("expired.handover"), sealedHandover.Text + "\n");
            handoverCode = sealedHandover.HandoverCode;
        }

        string[] code = withCode ? ["--handover-code", handoverCode] : [];
        ProcessResult enrol = Mpc(["device", "enrol", .. Connection, "--pending", pending, "--handover", P("expired.handover"), .. code, "--out", P("expired.key")]);

        RefusedWith(enrol, "enrolment request expired");
        Assert.Equal(6, enrol.ExitCode);
        Assert.Contains($"(mpc device request --pending PENDING --key-id {keyId}); the pending request {pending} was deleted", enrol.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(pending));
        Assert.False(File.Exists(P("expired.key")));
    }

    [Fact]
    public async Task A_refresh_of_a_key_file_a_waiting_handover_holds_is_refused_and_runs_once_that_handover_is_killed()
    {
        string keyFile = P("held.key");
        ProcessResult made = Mpc(["keygen", .. Connection, "--out", keyFile]);
        Succeeded(made);
        string publicKeyPem = P("held-pub.pem");
        File.WriteAllText(publicKeyPem, ClientKeyFile.ReadPublicInfo(keyFile).PublicKeyPem);
        ProcessResult request = Mpc("device", "request", "--pending", P("held-laptop.pending"), "--key-id", KeyIdOf(made)!);
        Succeeded(request);
        (string token, string code) = RequestOf(request);

        // The handover waits for the enrolment (up to 17 minutes), holding the key file's lock: it ends in a refresh.
        using System.Diagnostics.Process handover = ProcessRunner.StartMpc(_environment,
            ["device", "handover", .. Connection, "--key", keyFile, "--request", token, "--code", code, "--out", P("held.handover")]);
        try
        {
            ReadStderrUntil(handover, "Waiting for the new device to enrol");
            byte[] before = File.ReadAllBytes(keyFile);

            ProcessResult refused = Mpc(["refresh", .. Connection, "--key", keyFile]);
            RefusedWith(refused, $"another mpc command (or program) is using {keyFile}");
            Assert.Equal(6, refused.ExitCode);
            Assert.Single(refused.Stderr.Trim().Split('\n'));
            // The SDK's update, from this (another) process, is refused the same way.
            using MpcSignerClient client = server.Client(User);
            MpcSignerException sdkRefused = await Assert.ThrowsAsync<MpcSignerException>(() => PendingKeyFile.UpdateAsync(client, keyFile, User,
                KeyFileProtection.Passphrase(_environment["MPC_PASSPHRASE"]), _ => throw new InvalidOperationException("the refresh must not start")));
            Assert.Equal(MpcErrorReason.KeyFileInUse, sdkRefused.Reason);

            Assert.Equal(before, File.ReadAllBytes(keyFile));
            Assert.False(File.Exists(keyFile + ".pending"));
        }
        finally
        {
            handover.Kill(entireProcessTree: true);
            handover.WaitForExit();
        }

        // Killed while it held the lock: nothing is left that blocks the next command.
        Succeeded(Mpc(["refresh", .. Connection, "--key", keyFile]));
        SignAndVerify(keyFile, publicKeyPem, "after-killed-handover");
    }

    [Fact]
    public void A_backup_whose_lock_another_command_holds_keeps_its_passphrase_and_is_refused_like_a_key_file()
    {
        string backup = P("locked.backup");
        EcCurve curve = EcCurve.Get(CurveKind.P256);
        var identity = new BackupIdentity(User, "key", "backup-1", CurveKind.P256, curve.EncodePoint(curve.MultiplyBase(curve.RandomScalar())), DateTimeOffset.UtcNow);
        File.WriteAllBytes(backup, ClientShareBackup.Seal(RandomNumberGenerator.GetBytes(32), identity, _environment["MPC_BACKUP_PASSPHRASE"]));
        byte[] before = File.ReadAllBytes(backup);
        _environment["NEW_BACKUP"] = "a new backup passphrase";
        string[] passphrase = ["passphrase", "--backup", backup, "--old-env", "MPC_BACKUP_PASSPHRASE", "--new-env", "NEW_BACKUP"];

        // Another command re-wrapping or replacing the backup holds its lock, as refresh and handover hold a key file's.
        using (KeyFileLock.Acquire(backup))
        {
            ProcessResult refused = Mpc(passphrase);
            RefusedWith(refused, $"another mpc command (or program) is using {backup}: let it finish, then run this again");
            Assert.Equal(6, refused.ExitCode);
            Assert.Single(refused.Stderr.Trim().Split('\n'));
            Assert.Equal(before, File.ReadAllBytes(backup));
        }

        Succeeded(Mpc(passphrase));
        byte[] secret = ClientShareBackup.Open(File.ReadAllBytes(backup), _environment["NEW_BACKUP"], out BackupIdentity reopened);
        Assert.Equal(identity.DeviceId, reopened.DeviceId);
        CryptographicOperations.ZeroMemory(secret);
    }

    /// <summary>
    /// Reads <paramref name="process"/>'s stderr line by line until one contains <paramref name="expected"/> (fails if it
    /// ends first): the lines read, that one included.
    /// </summary>
    private static string ReadStderrUntil(System.Diagnostics.Process process, string expected)
    {
        var seen = new System.Text.StringBuilder();
        while (process.StandardError.ReadLine() is { } line)
        {
            seen.AppendLine(line);
            if (line.Contains(expected, StringComparison.Ordinal))
            {
                return seen.ToString();
            }
        }
        throw new Xunit.Sdk.XunitException($"mpc ended without \"{expected}\": {seen}");
    }

    /// <summary>
    /// The result of <paramref name="process"/> once it ends, its stderr after <paramref name="stderrRead"/> (already
    /// read); a process that has not ended within three minutes fails the test, as <see cref="ProcessRunner.Run"/> does.
    /// </summary>
    private static async Task<ProcessResult> ResultOfAsync(System.Diagnostics.Process process, string stderrRead)
    {
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("mpc did not finish");
        }
        return new ProcessResult(process.ExitCode, await stdout, stderrRead + await stderr);
    }

    [Fact]
    public async Task An_enrolment_whose_reply_was_lost_is_settled_by_a_rerun_after_its_request_expired()
    {
        // The first run: its new share saved to OUT.pending, the server's commit made, then the reply (and the process)
        // lost before the file became OUT. The user runs the command again twenty minutes later.
        var then = new ManualTime(DateTimeOffset.UtcNow - DeviceEnrolmentRequest.Lifetime - TimeSpan.FromMinutes(5));
        string pending = P("late.pending"), handover = P("late.handover"), keyFile = P("late.key");
        using MpcSignerClient client = server.Client(User);
        using MpcKey source = await client.CreateKeyAsync(CurveKind.P256);
        File.WriteAllText(P("late-pub.pem"), source.PublicKeyPem);
        byte[] secret = source.Share.ExportSecret();
        using (DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(source.KeyId, then))
        {
            File.WriteAllBytes(pending, request.ExportPending(_environment["MPC_PASSPHRASE"]));
            SealedHandover sealedHandover = DeviceHandover.Seal(request.Request.ToToken(), request.Request.ConfirmationCode, secret,
                new HandoverIdentity(User, source.KeyId, source.Share.DeviceId, source.Share.Curve, source.Share.EncodedPublicKey), then);
            File.WriteAllText(handover, sealedHandover.Text + "\n");
        }
        string enrolledDevice;
        using (ClientKeyShare handedOver = ClientKeyShare.ImportSecret(secret, BigNumBackends.Default))
        using (MpcKey enrolled = await client.EnrolDeviceAsync(handedOver, "laptop", (share, _) =>
        {
            ClientKeyFile.Save(PendingKeyFile.PendingPathOf(keyFile), share, User, KeyFileProtection.Passphrase(_environment["MPC_PASSPHRASE"]));
            return ValueTask.CompletedTask;
        }))
        {
            enrolledDevice = enrolled.Share.DeviceId;
        }
        CryptographicOperations.ZeroMemory(secret);

        ProcessResult rerun = Mpc(["device", "enrol", .. Connection, "--pending", pending, "--handover", handover, "--out", keyFile]);

        Succeeded(rerun);
        Assert.Contains($"Device id: {enrolledDevice}", rerun.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(PendingKeyFile.PendingPathOf(keyFile)));
        Assert.False(File.Exists(pending));
        SignAndVerify(keyFile, P("late-pub.pem"), "late-enrolment");
    }

    [Fact]
    public void Plain_http_to_a_remote_host_and_secrets_on_the_command_line_are_refused_before_anything_runs()
    {
        // The key file does not exist: a refusal that came later would name it (or a DNS failure) instead.
        string[] sign = ["sign", "--key", P("missing.key"), "--in", P("missing.txt"), "--out", P("x.sig")];
        ProcessResult http = Mpc([.. sign, "--server", "http://signer.example:7443"]);
        RefusedWith(http, "refusing plain http to signer.example");
        Assert.Contains("--insecure-http", http.Stderr, StringComparison.Ordinal);
        Assert.Single(http.Stderr.Trim().Split('\n'));
        _environment["MPC_SERVER"] = "http://10.1.2.3:7443";
        RefusedWith(Mpc(["refresh", "--key", P("missing.key")]), "refusing plain http to 10.1.2.3");
        _environment.Remove("MPC_SERVER");

        RefusedWith(Mpc([.. sign, "--server", "https://signer.example:7443", "--token", "eyJhbGciOi.x.y"]), "--token is refused");
        RefusedWith(Mpc([.. sign, "--server", "https://signer.example:7443", "--passphrase", "hunter2"]), "--passphrase is refused");
        RefusedWith(Mpc("device", "request", "--pending", P("p"), "--key-id", "k", "--passphrase", "hunter2"), "--passphrase is refused");
        Assert.False(File.Exists(P("p")));
        Assert.False(File.Exists(P("x.sig")));
    }

    public void Dispose()
    {
        _root.Dispose();
    }
}
