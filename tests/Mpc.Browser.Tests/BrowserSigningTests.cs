using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Mpc.Browser.Tests.BrowserPage;

namespace Mpc.Browser.Tests;

/// <summary>
/// The browser client end to end against a spawned mpc-server over gRPC-Web: device setup, key generation and signing
/// in a Web Worker; the signature checked by the openssl command line; the share sealed in IndexedDB and used again
/// after a reload; no plaintext x2 in IndexedDB; a changed record refused. The medians printed are docs/benchmarks.md's
/// "Browser" figures.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserSigningTests(BrowserApp app, ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task A_page_sets_up_the_device_makes_a_key_and_signs_a_document_that_openssl_verifies_and_signs_again_after_a_reload()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);

        JsonElement opened = await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        Assert.True(opened.GetProperty("created").GetBoolean());
        Assert.Contains("device-setup", opened.GetProperty("stages").EnumerateArray().Select(s => s.GetString()));
        double deviceSetupMs = opened.GetProperty("milliseconds").GetDouble();

        JsonElement key = await Evaluate(page, """
            async () => { const t = performance.now(); const key = await window.signer.createKey({ curve: 'p256' }); return { ...key, keygenMs: performance.now() - t }; }
            """);
        string keyId = key.GetProperty("keyId").GetString()!;
        string pem = key.GetProperty("publicKeyPem").GetString()!;
        double keygenMs = key.GetProperty("keygenMs").GetDouble();

        const string document = "Certificate no. 1: the bearer completed the course.";
        byte[] der = await Sign(page, keyId, document);
        AssertOpensslVerifies(pem, document, der);

        // The server lists the key with the same public key.
        JsonElement listed = await Evaluate(page, "async () => await window.signer.listKeys()");
        Assert.Contains(listed.EnumerateArray(), k => k.GetProperty("keyId").GetString() == keyId && k.GetProperty("publicKeyPem").GetString()!.Trim() == pem.Trim());

        // IndexedDB: the sealing key is a non-extractable AES-GCM CryptoKey, and neither x2 nor its complement appears.
        string x2 = (await Evaluate(page, "async keyId => await window.signer.shareScalarHexForTest(keyId)", keyId)).GetString()!;
        Assert.Equal(64, x2.Length);
        string stored = (await Evaluate(page, DumpIndexedDb)).GetString()!;
        Assert.Contains("\"extractable\":false", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("\"extractable\":true", stored, StringComparison.Ordinal);
        Assert.Contains(keyId, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(x2, stored, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(x2.TrimStart('0'), stored, StringComparison.OrdinalIgnoreCase);

        // Sign p50 with prepared randomness (the worker prepares it while idle).
        var signTimes = new List<double>();
        for (int i = 0; i < 7; i++)
        {
            await page.WaitForFunctionAsync("async keyId => (await window.signer.preparedRandomness(keyId)) > 0", keyId, new PageWaitForFunctionOptions { Timeout = TimeoutMs, PollingInterval = 100 });
            JsonElement timed = await Evaluate(page, "async ([keyId, text]) => { const r = await window.signer.signTimed(keyId, text); return { der: window.toBase64(r.der), ms: r.milliseconds }; }",
                new[] { keyId, $"document {i}" });
            signTimes.Add(timed.GetProperty("ms").GetDouble());
            AssertOpensslVerifies(pem, $"document {i}", Convert.FromBase64String(timed.GetProperty("der").GetString()!));
        }

        // Reload: the device parameters and the share come back from IndexedDB, and the key signs again.
        await page.ReloadAsync();
        JsonElement reopened = await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        Assert.False(reopened.GetProperty("created").GetBoolean());
        JsonElement keys = await Evaluate(page, "async () => await window.signer.openStoredKeys()");
        Assert.Equal(keyId, Assert.Single(keys.EnumerateArray()).GetProperty("keyId").GetString());
        const string second = "Certificate no. 2, signed after a reload.";
        AssertOpensslVerifies(pem, second, await Sign(page, keyId, second));

        double scalarMultiplyMs = (await Evaluate(page, "async () => await window.signer.scalarMultiplyMs('p256', 9)")).GetDouble();
        string figures = string.Create(CultureInfo.InvariantCulture,
            $"browser signing (headless chromium): device setup {deviceSetupMs:F0} ms, key generation {keygenMs:F0} ms, sign p50 {Median(signTimes):F0} ms, P-256 scalar multiplication in wasm {scalarMultiplyMs:F1} ms (runs: {string.Join(", ", signTimes.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)))}), download {DownloadSize()}");
        output.WriteLine(figures);
        Console.WriteLine(figures);
    }

    [ChromiumFact]
    public async Task A_changed_share_record_in_IndexedDB_is_refused_with_a_clear_error_naming_the_key()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-tamper-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        string keyId = (await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })")).GetProperty("keyId").GetString()!;

        // Flip one bit of the sealed share, as someone editing the profile's IndexedDB files would.
        await EditShareRecord(page, keyId, "record.sealed[40] ^= 1;");
        await page.ReloadAsync();
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        string error = (await Evaluate(page, "async () => { try { await window.signer.openStoredKeys(); return 'opened'; } catch (e) { return e.message; } }")).GetString()!;
        Assert.Contains($"share {keyId} fails its integrity check", error, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task A_share_sealed_also_under_a_passphrase_opens_only_with_it_and_then_signs()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-passphrase-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        const string openWith = """
            async ([server, token, passphrase]) => {
              const { MpcSigner, toBase64 } = await import('./mpc-signer.js');
              window.toBase64 = toBase64;
              try {
                window.signer = await MpcSigner.open({ server, token, passphrase: passphrase || undefined });
                const started = performance.now();
                const keys = await window.signer.openStoredKeys();
                return { keys: keys.map(k => k.keyId), ms: performance.now() - started };
              } catch (e) {
                return { error: e.message };
              }
            }
            """;
        string server = app.Server.WebAddress.ToString();
        await Evaluate(page, openWith, new[] { server, token, "correct horse" });
        JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        string keyId = key.GetProperty("keyId").GetString()!;
        string pem = key.GetProperty("publicKeyPem").GetString()!;
        string stored = (await Evaluate(page, DumpIndexedDb)).GetString()!;
        Assert.Contains("\"kdf\":\"PBKDF2-SHA256\"", stored, StringComparison.Ordinal);

        // The same profile (so the same non-extractable key) without the passphrase, and with a wrong one: refused, at
        // the first record opened, the device parameters (under the same layers).
        await page.ReloadAsync();
        JsonElement without = await Evaluate(page, openWith, new[] { server, token, "" });
        Assert.Contains("device profile is also sealed under a passphrase: open the signer with { passphrase }", without.GetProperty("error").GetString(), StringComparison.Ordinal);
        await page.ReloadAsync();
        JsonElement wrong = await Evaluate(page, openWith, new[] { server, token, "wrong horse" });
        Assert.Contains("device profile does not open with this passphrase", wrong.GetProperty("error").GetString(), StringComparison.Ordinal);

        await page.ReloadAsync();
        JsonElement right = await Evaluate(page, openWith, new[] { server, token, "correct horse" });
        Assert.Equal(keyId, Assert.Single(right.GetProperty("keys").EnumerateArray()).GetString());
        AssertOpensslVerifies(pem, "signed with a passphrase-sealed share", await Sign(page, keyId, "signed with a passphrase-sealed share"));

        // The iteration count is stored in clear and unauthenticated: one above the cap is refused before any derivation.
        await EditShareRecord(page, keyId, "record.passphrase.iterations = 10000001;");
        await page.ReloadAsync();
        JsonElement planted = await Evaluate(page, openWith, new[] { server, token, "correct horse" });
        Assert.Contains($"share {keyId} asks for 10000001 passphrase iterations, more than the 10000000", planted.GetProperty("error").GetString(), StringComparison.Ordinal);

        string figures = string.Create(CultureInfo.InvariantCulture,
            $"browser passphrase layer (headless chromium): openStoredKeys with PBKDF2-SHA256 600000 iterations, one share {right.GetProperty("ms").GetDouble():F0} ms");
        output.WriteLine(figures);
        Console.WriteLine(figures);
    }

    /// <summary>The bytes a browser downloads to sign: the page's scripts and _framework, as Brotli where published so.</summary>
    private string DownloadSize()
    {
        long raw = 0, compressed = 0;
        foreach (string file in Directory.EnumerateFiles(app.SiteDirectory, "*", SearchOption.AllDirectories))
        {
            if (file.EndsWith(".br", StringComparison.Ordinal) || file.EndsWith(".gz", StringComparison.Ordinal))
            {
                continue;
            }
            long size = new FileInfo(file).Length;
            raw += size;
            compressed += File.Exists(file + ".br") ? new FileInfo(file + ".br").Length : size;
        }
        return string.Create(CultureInfo.InvariantCulture, $"{raw / 1048576.0:F1} MB, {compressed / 1048576.0:F1} MB as Brotli");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
