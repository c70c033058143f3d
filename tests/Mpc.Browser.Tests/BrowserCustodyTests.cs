using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Mpc.Browser.Tests.BrowserPage;

namespace Mpc.Browser.Tests;

/// <summary>
/// Refresh, backup and restore from the JavaScript API, in the SDK's backup format: a lost browser profile comes back
/// from a backup, and keys move between the browser and the mpc command line (mpc backup / mpc restore) in both
/// directions. Every signature is checked with the openssl command line. The times printed are docs/benchmarks.md's.
/// </summary>
[Collection(BrowserCollection.Name)]
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

    [ChromiumFact]
    public async Task A_key_made_in_the_browser_signs_from_the_command_line_and_a_key_made_with_the_command_line_signs_in_the_browser()
    {
        (MpcCli cli, Dictionary<string, string> environment, IBrowserContext context, IPage page) =
            await BrowserBesideCliAsync("browser-cli-user", "MPC_BACKUP_PASSPHRASE");
        using MpcCli ownedCli = cli;
        await using IBrowserContext ownedContext = context;

        // Browser → CLI: the browser's backup restored by mpc restore; mpc sign; openssl checks against the browser's key.
        (string browserKeyId, string browserPem) = await CreateKeyInBrowserAsync(page);
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

    [ChromiumFact]
    public async Task A_key_made_in_the_browser_signs_from_the_command_line_after_a_device_enrolment_and_a_command_line_key_signs_in_the_browser_after_one()
    {
        (MpcCli cli, Dictionary<string, string> environment, IBrowserContext context, IPage page) =
            await BrowserBesideCliAsync("browser-enrol-user", "MPC_PASSPHRASE");
        using MpcCli ownedCli = cli;
        await using IBrowserContext ownedContext = context;

        // The browser is the existing device: mpc device request on the CLI, handOver() in the browser with the code
        // the CLI showed, mpc device enrol; the CLI signs; the browser refreshes (its handed-over share dies) and signs.
        (string browserKeyId, string browserPem) = await CreateKeyInBrowserAsync(page);
        string[] requested = (await cli.RunAsync(environment, "device", "request", "--pending", "cli.pending", "--key-id", browserKeyId))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string request = requested[0], code = requested[1]["Code: ".Length..];
        string wrongCode = (await Evaluate(page, """
            async ([keyId, request]) => { try { await window.signer.handOver(keyId, { request, code: '000-000' }); return 'sealed'; } catch (e) { return e.message; } }
            """, new[] { browserKeyId, request })).GetString()!;
        Assert.NotEqual("sealed", wrongCode);
        string handover = (await Evaluate(page, "async ([keyId, request, code]) => await window.signer.handOver(keyId, { request, code })",
            new[] { browserKeyId, request, code })).GetString()!;
        await File.WriteAllTextAsync(cli.PathOf("browser.handover"), handover);
        await cli.RunAsync(environment, "device", "enrol", "--pending", "cli.pending", "--handover", "browser.handover", "--out", "enrolled.key");
        const string document = "Certificate no. 9, signed from the command line after enrolling from the browser.";
        await File.WriteAllTextAsync(cli.PathOf("document.txt"), document);
        await cli.RunAsync(environment, "sign", "--key", "enrolled.key", "--in", "document.txt", "--out", "document.sig");
        AssertOpensslVerifies(browserPem, document, await File.ReadAllBytesAsync(cli.PathOf("document.sig")));
        await Evaluate(page, "async keyId => await window.signer.refresh(keyId)", browserKeyId);
        AssertOpensslVerifies(browserPem, "the browser after handing over", await Sign(page, browserKeyId, "the browser after handing over"));

        // The browser is the new device: requestEnrolment() in the browser, mpc device handover with its code,
        // acceptHandover() in the browser, which signs.
        string[] made = (await cli.RunAsync(environment, "keygen", "--out", "cli.key")).Split('\n', 2);
        string cliKeyId = made[0]["Key id: ".Length..].Trim();
        string cliPem = made[1];
        JsonElement enrolment = await Evaluate(page, "async keyId => await window.signer.requestEnrolment(keyId)", cliKeyId);
        await cli.RunAsync(environment, "device", "handover", "--key", "cli.key", "--request", enrolment.GetProperty("request").GetString()!,
            "--code", enrolment.GetProperty("code").GetString()!, "--out", "cli.handover", "--no-wait");
        JsonElement enrolled = await Evaluate(page, "async handover => await window.signer.acceptHandoverTimed(handover)",
            await File.ReadAllTextAsync(cli.PathOf("cli.handover")));
        Assert.Equal(cliKeyId, enrolled.GetProperty("keyId").GetString());
        Assert.Equal(cliPem.Trim(), enrolled.GetProperty("publicKeyPem").GetString()!.Trim());
        const string second = "Certificate no. 10, signed in the browser after enrolling from the command line.";
        AssertOpensslVerifies(cliPem, second, await Sign(page, cliKeyId, second));

        string figures = string.Create(CultureInfo.InvariantCulture,
            $"browser enrolment (headless chromium): acceptHandover (open, enrolment refresh, seal) {enrolled.GetProperty("milliseconds").GetDouble():F0} ms");
        output.WriteLine(figures);
        Console.WriteLine(figures);
    }

    /// <summary>
    /// The server started for <paramref name="user"/>, the CLI with its environment (server, token, and
    /// <see cref="Passphrase"/> under <paramref name="passphraseVariable"/>), and the harness page connected as the same
    /// user; the caller disposes the CLI and the browser context.
    /// </summary>
    private async Task<(MpcCli Cli, Dictionary<string, string> Environment, IBrowserContext Context, IPage Page)> BrowserBesideCliAsync(string user, string passphraseVariable)
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync(user);
        var environment = new Dictionary<string, string>
        {
            ["MPC_SERVER"] = app.Server.GrpcAddress.ToString(),
            ["MPC_TOKEN"] = token,
            [passphraseVariable] = Passphrase,
        };
        var cli = new MpcCli();
        IBrowserContext context = await app.Browser.NewContextAsync();
        try
        {
            IPage page = await OpenHarness(context, app, output);
            await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
            return (cli, environment, context, page);
        }
        catch
        {
            await context.DisposeAsync();
            cli.Dispose();
            throw;
        }
    }

    /// <summary>A P-256 key made in the browser: its id and public key PEM.</summary>
    private static async Task<(string KeyId, string PublicKeyPem)> CreateKeyInBrowserAsync(IPage page)
    {
        JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        return (key.GetProperty("keyId").GetString()!, key.GetProperty("publicKeyPem").GetString()!);
    }
}
