using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Mpc.Browser.Tests;

/// <summary>What the browser tests do with a page: open the harness, open the signer, evaluate, sign, check with openssl.</summary>
internal static class BrowserPage
{
    public const int TimeoutMs = 300_000;

    /// <summary>Opens the signer in the page (as window.signer) for [server, token] and, if given third, a passphrase.</summary>
    public const string OpenSigner = """
        async ([server, token, passphrase]) => {
          const { MpcSigner, toBase64 } = await import('./mpc-signer.js');
          window.toBase64 = toBase64;
          window.progress = [];
          const started = performance.now();
          window.signer = await MpcSigner.open({ server, token, passphrase: passphrase || undefined, onProgress: p => window.progress.push(p) });
          return { ...window.signer.device, openMs: performance.now() - started, stages: [...new Set(window.progress.map(p => p.stage))] };
        }
        """;

    /// <summary>
    /// The vault database (mpc-vault.js: one per user) given as the argument, else the only one in the profile; a
    /// JavaScript expression inside an async function.
    /// </summary>
    private const string VaultDatabaseName = """
        (await (async database => {
          if (database) { return database; }
          const names = (await indexedDB.databases()).map(d => d.name).filter(name => name.startsWith('mpc-signer/user/'));
          if (names.length !== 1) { throw new Error(`expected one user's vault, found ${names.length}`); }
          return names[0];
        })(database))
        """;

    /// <summary>The name of <paramref name="userId"/>'s vault database: "mpc-signer/user/" + SHA-256 of the user id, hex.</summary>
    public static string VaultDatabaseOf(string userId) =>
        "mpc-signer/user/" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(userId)));

    /// <summary>
    /// Every record of every store of a vault database (the argument, else the profile's only one), bytes as hex, a
    /// CryptoKey as its algorithm and extractable flag.
    /// </summary>
    public const string DumpIndexedDb = $$"""
        async database => {
          const request = indexedDB.open({{VaultDatabaseName}});
          const db = await new Promise((resolve, reject) => { request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
          const hex = bytes => Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
          const show = v => v instanceof CryptoKey ? { cryptoKey: v.algorithm.name, extractable: v.extractable }
            : v instanceof Uint8Array ? hex(v) : v instanceof ArrayBuffer ? hex(new Uint8Array(v))
            : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, show(x)])) : v;
          const stores = {};
          for (const name of db.objectStoreNames) {
            const all = db.transaction(name).objectStore(name).getAll();
            stores[name] = (await new Promise((resolve, reject) => { all.onsuccess = () => resolve(all.result); all.onerror = () => reject(all.error); })).map(show);
          }
          db.close();
          return JSON.stringify(stores);
        }
        """;

    /// <summary>
    /// Changes the stored record of <paramref name="keyId"/>'s share in the page's IndexedDB, as someone editing the
    /// profile's files would: <paramref name="edit"/> is a JavaScript statement on <c>record</c>, e.g. <c>record.sealed[40] ^= 1;</c>.
    /// </summary>
    public static Task EditShareRecord(IPage page, string keyId, string edit) => Evaluate(page, $$"""
        async keyId => {
          const database = null;
          const request = indexedDB.open({{VaultDatabaseName}});
          const db = await new Promise(resolve => { request.onsuccess = () => resolve(request.result); });
          const tx = db.transaction('shares', 'readwrite');
          const store = tx.objectStore('shares');
          const get = store.get(keyId);
          await new Promise(resolve => { get.onsuccess = resolve; });
          const record = get.result;
          {{edit}}
          store.put(record);
          await new Promise(resolve => { tx.oncomplete = resolve; });
          db.close();
          return true;
        }
        """, keyId);

    /// <summary>
    /// The set-up most browser tests repeat: a harness page in <paramref name="context"/> with the signer open
    /// (window.signer) on the test server for <paramref name="token"/>, and what open() reported (device.created, stages).
    /// </summary>
    public static async Task<(IPage Page, JsonElement Opened)> OpenSignerPage(
        IBrowserContext context, BrowserApp app, ITestOutputHelper output, string token, string? passphrase = null)
    {
        IPage page = await OpenHarness(context, app, output);
        return (page, await OpenSignerIn(page, app, token, passphrase));
    }

    /// <summary>Opens the signer (window.signer) in <paramref name="page"/> on the test server for <paramref name="token"/>.</summary>
    public static Task<JsonElement> OpenSignerIn(IPage page, BrowserApp app, string token, string? passphrase = null) =>
        Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token, passphrase ?? "" });

    /// <summary>A new P-256 key made by window.signer: its id and public key PEM.</summary>
    public static async Task<(string KeyId, string PublicKeyPem)> CreateKey(IPage page)
    {
        JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        return (key.GetProperty("keyId").GetString()!, key.GetProperty("publicKeyPem").GetString()!);
    }

    /// <summary>The key ids window.signer.openStoredKeys() opens, in order.</summary>
    public static async Task<string[]> StoredKeyIds(IPage page) =>
        (await Evaluate(page, "async () => await window.signer.openStoredKeys()")).EnumerateArray().Select(k => k.GetProperty("keyId").GetString()!).Order().ToArray();

    /// <summary>What a page-side call rejected with (its message), or "ok" when it resolved.</summary>
    public static async Task<string> ErrorOf(IPage page, string expression, object? argument = null) =>
        await page.EvaluateAsync<string>($"async argument => {{ try {{ await ({expression})(argument); return 'ok'; }} catch (e) {{ return e.message; }} }}", argument);

    public static async Task<IPage> OpenHarness(IBrowserContext context, BrowserApp app, ITestOutputHelper output)
    {
        IPage page = await context.NewPageAsync();
        page.SetDefaultTimeout(TimeoutMs);
        page.Console += (_, message) => output.WriteLine($"console.{message.Type}: {message.Text}");
        await page.GotoAsync(new Uri(app.Address, "harness.html").ToString());
        return page;
    }

    public static async Task<JsonElement> Evaluate(IPage page, string expression, object? argument = null)
    {
        JsonElement? result = await page.EvaluateAsync(expression, argument);
        return result ?? default;
    }

    public static async Task<byte[]> Sign(IPage page, string keyId, string text) =>
        Convert.FromBase64String((await Evaluate(page, "async ([keyId, text]) => window.toBase64(await window.signer.sign(keyId, text))", new[] { keyId, text })).GetString()!);

    /// <summary>`openssl dgst -sha256 -verify pub.pem -signature sig.der doc.txt` says "Verified OK".</summary>
    public static void AssertOpensslVerifies(string publicKeyPem, string document, byte[] der)
    {
        string directory = Directory.CreateTempSubdirectory("mpc-browser-openssl-").FullName;
        try
        {
            string pem = Path.Combine(directory, "pub.pem"), signature = Path.Combine(directory, "sig.der"), text = Path.Combine(directory, "doc.txt");
            File.WriteAllText(pem, publicKeyPem);
            File.WriteAllBytes(signature, der);
            File.WriteAllBytes(text, Encoding.UTF8.GetBytes(document));
            using Process openssl = Process.Start(new ProcessStartInfo("openssl", ["dgst", "-sha256", "-verify", pem, "-signature", signature, text])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            string stdout = openssl.StandardOutput.ReadToEnd() + openssl.StandardError.ReadToEnd();
            openssl.WaitForExit();
            Assert.True(openssl.ExitCode == 0 && stdout.Contains("Verified OK", StringComparison.Ordinal), $"openssl: {stdout}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
