using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Mpc.Client.Custody;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Mpc.Browser.Tests.BrowserPage;

namespace Mpc.Browser.Tests;

/// <summary>
/// Refresh, backup and restore from the JavaScript API, in the SDK's backup format: a lost browser profile comes back
/// from a backup, and keys move between the browser and the mpc command line (mpc backup / mpc restore) in both
/// directions. Every signature is checked with the openssl command line. The times printed are docs/benchmarks.md's.
/// </summary>
[Collection(BrowserCustodyCollection.Name)]
public sealed class BrowserCustodyTests(BrowserApp app, ITestOutputHelper output)
{
    private const string Passphrase = "correct horse battery staple";

    [ChromiumFact]
    public async Task A_lost_browser_profile_is_recovered_from_a_backup_made_in_the_browser_and_signs_again_after_a_refresh()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-backup-user");
        string keyId, pem, backup;
        double backupMs;
        await using (IBrowserContext first = await app.Browser.NewContextAsync())
        {
            IPage page = await OpenHarness(first, app, output);
            await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
            JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
            keyId = key.GetProperty("keyId").GetString()!;
            pem = key.GetProperty("publicKeyPem").GetString()!;

            // Refresh: a new share pair for the same public key, sealed over the old record; it signs.
            JsonElement refreshed = await Evaluate(page, "async keyId => await window.signer.refresh(keyId)", keyId);
            Assert.Equal(pem, refreshed.GetProperty("publicKeyPem").GetString());
            AssertOpensslVerifies(pem, "signed after a refresh", await Sign(page, keyId, "signed after a refresh"));

            JsonElement made = await Evaluate(page, """
                async ([keyId, passphrase]) => { const r = await window.signer.backupTimed(keyId, { passphrase }); return { file: window.toBase64(r.file), ms: r.milliseconds }; }
                """, new[] { keyId, Passphrase });
            backup = made.GetProperty("file").GetString()!;
            backupMs = made.GetProperty("ms").GetDouble();
            // The file is the SDK's backup format and carries no share in clear.
            string x2 = (await Evaluate(page, "async keyId => await window.signer.shareScalarHexForTest(keyId)", keyId)).GetString()!;
            Assert.DoesNotContain(x2, Convert.ToHexStringLower(Convert.FromBase64String(backup)), StringComparison.Ordinal);
        }

        // A new profile (empty IndexedDB): the key is not there until the backup is restored.
        await using IBrowserContext second = await app.Browser.NewContextAsync();
        IPage fresh = await OpenHarness(second, app, output);
        await Evaluate(fresh, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        Assert.Empty((await Evaluate(fresh, "async () => await window.signer.openStoredKeys()")).EnumerateArray());
        string wrong = (await Evaluate(fresh, """
            async file => { try { await window.signer.restore(Uint8Array.from(atob(file), c => c.charCodeAt(0)), { passphrase: 'wrong' }); return 'restored'; } catch (e) { return e.message; } }
            """, backup)).GetString()!;
        Assert.Contains("passphrase", wrong, StringComparison.OrdinalIgnoreCase);

        JsonElement restored = await Evaluate(fresh, """
            async ([file, passphrase]) => await window.signer.restoreTimed(Uint8Array.from(atob(file), c => c.charCodeAt(0)), { passphrase })
            """, new[] { backup, Passphrase });
        Assert.Equal(keyId, restored.GetProperty("keyId").GetString());
        Assert.Equal(pem, restored.GetProperty("publicKeyPem").GetString());
        double restoreMs = restored.GetProperty("milliseconds").GetDouble();
        AssertOpensslVerifies(pem, "signed after a restore", await Sign(fresh, keyId, "signed after a restore"));

        // The restored share was sealed: after a reload it opens from IndexedDB and signs.
        await fresh.ReloadAsync();
        await Evaluate(fresh, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        Assert.Equal(keyId, Assert.Single((await Evaluate(fresh, "async () => await window.signer.openStoredKeys()")).EnumerateArray()).GetProperty("keyId").GetString());
        AssertOpensslVerifies(pem, "signed after a restore and a reload", await Sign(fresh, keyId, "signed after a restore and a reload"));

        // A backup restores once: the server destroyed its half.
        string again = (await Evaluate(fresh, """
            async ([file, passphrase]) => { try { await window.signer.restore(Uint8Array.from(atob(file), c => c.charCodeAt(0)), { passphrase }); return 'restored'; } catch (e) { return e.message; } }
            """, new[] { backup, Passphrase })).GetString()!;
        Assert.NotEqual("restored", again);

        string figures = string.Create(CultureInfo.InvariantCulture, $"browser custody (headless chromium): backup {backupMs:F0} ms, restore {restoreMs:F0} ms");
        output.WriteLine(figures);
        Console.WriteLine(figures);
    }

    /// <summary>
    /// The header's public key is checked against the share before the server is asked to restore: once the server
    /// switched, the pending share would be the key's and the next settling would make it current anyway.
    /// </summary>
    [ChromiumFact]
    public async Task A_backup_whose_header_names_another_public_key_is_refused_before_any_server_call_and_the_genuine_one_still_restores()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-backup-header-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        string keyId = key.GetProperty("keyId").GetString()!;
        string pem = key.GetProperty("publicKeyPem").GetString()!;
        string backup = (await Evaluate(page, "async ([keyId, passphrase]) => window.toBase64(await window.signer.backup(keyId, { passphrase }))",
            new[] { keyId, Passphrase })).GetString()!;

        // The same share under a header naming -Q (the other compressed prefix): a valid point, another public key.
        byte[] secret = ClientShareBackup.Open(Convert.FromBase64String(backup), Passphrase, out BackupIdentity identity);
        string forged;
        try
        {
            byte[] otherPublicKey = identity.PublicKey;
            otherPublicKey[0] ^= 1;
            forged = Convert.ToBase64String(ClientShareBackup.Seal(secret, identity with { PublicKey = otherPublicKey }, Passphrase));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }

        const string restore = """
            async ([file, passphrase]) => { try { return (await window.signer.restore(Uint8Array.from(atob(file), c => c.charCodeAt(0)), { passphrase })).keyId; } catch (e) { return e.message; } }
            """;
        string storedBefore = (await Evaluate(page, DumpIndexedDb)).GetString()!;
        string refused = (await Evaluate(page, restore, new[] { forged, Passphrase })).GetString()!;
        Assert.NotEqual(keyId, refused);
        // Nothing sealed, not even a pending share for the next open to settle.
        Assert.Equal(storedBefore, (await Evaluate(page, DumpIndexedDb)).GetString());

        // The server was not asked: the backup's half (destroyed by a restore) is still there, so the genuine file restores.
        Assert.Equal(keyId, (await Evaluate(page, restore, new[] { backup, Passphrase })).GetString());
        AssertOpensslVerifies(pem, "signed after the genuine restore", await Sign(page, keyId, "signed after the genuine restore"));
        Assert.Contains("the backup's share does not match its header", refused, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task A_key_made_in_the_browser_signs_from_the_command_line_and_a_key_made_with_the_command_line_signs_in_the_browser()
    {
        (MpcCli cli, Dictionary<string, string> environment, IBrowserContext context, IPage page, _) =
            await BrowserBesideCli.StartAsync(app, output, "browser-cli-user", "MPC_BACKUP_PASSPHRASE", Passphrase);
        using MpcCli ownedCli = cli;
        await using IBrowserContext ownedContext = context;

        // Browser → CLI: the browser's backup restored by mpc restore; mpc sign; openssl checks against the browser's key.
        (string browserKeyId, string browserPem) = await BrowserBesideCli.CreateKeyInBrowserAsync(page);
        string backup = (await Evaluate(page, "async ([keyId, passphrase]) => window.toBase64(await window.signer.backup(keyId, { passphrase }))",
            new[] { browserKeyId, Passphrase })).GetString()!;
        await File.WriteAllBytesAsync(cli.PathOf("browser.backup"), Convert.FromBase64String(backup));
        await cli.RunAsync(environment, "restore", "--in", "browser.backup", "--out", "from-browser.key", "--unprotected");
        const string document = "Certificate no. 7, signed from the command line with a key made in the browser.";
        await File.WriteAllTextAsync(cli.PathOf("document.txt"), document);
        await cli.RunAsync(environment, "sign", "--key", "from-browser.key", "--unprotected", "--in", "document.txt", "--out", "document.sig");
        AssertOpensslVerifies(browserPem, document, await File.ReadAllBytesAsync(cli.PathOf("document.sig")));

        // CLI → browser: mpc keygen, mpc backup, restored in the browser, which signs; openssl checks against mpc pubkey.
        await cli.RunAsync(environment, "keygen", "--out", "cli.key", "--unprotected");
        string cliPem = await cli.RunAsync(environment, "pubkey", "--key", "cli.key", "--unprotected");
        await cli.RunAsync(environment, "backup", "--key", "cli.key", "--unprotected", "--out", "cli.backup");
        JsonElement restored = await Evaluate(page, """
            async ([file, passphrase]) => await window.signer.restore(Uint8Array.from(atob(file), c => c.charCodeAt(0)), { passphrase })
            """, new[] { Convert.ToBase64String(await File.ReadAllBytesAsync(cli.PathOf("cli.backup"))), Passphrase });
        string cliKeyId = restored.GetProperty("keyId").GetString()!;
        Assert.Equal(cliPem.Trim(), restored.GetProperty("publicKeyPem").GetString()!.Trim());
        const string second = "Certificate no. 8, signed in the browser with a key made on the command line.";
        AssertOpensslVerifies(cliPem, second, await Sign(page, cliKeyId, second));
    }
}
