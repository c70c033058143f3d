using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Mpc.Browser.Tests.BrowserPage;

namespace Mpc.Browser.Tests;

/// <summary>
/// The vault (mpc-vault.js) as someone holding a copy of the browser profile sees it: the device record (the
/// ring-Pedersen trapdoor) read and its outer layer opened with the profile's own sealing key, as a copy of the
/// IndexedDB files allows; and the sealing key made by two first calls at once.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserVaultTests(BrowserApp app, ITestOutputHelper output)
{
    private const string Passphrase = "correct horse battery staple";

    /// <summary>
    /// The device record opened as a profile copy allows: its outer layer with the stored CryptoKey, and, given the
    /// passphrase, its passphrase layer. For each, whether the bytes are the trapdoor: they parse as
    /// RingPedersenSecret.ExportSecret (u32 version 1, then N̂, s, t, p̂, q̂, λ, each length-prefixed) with N̂ = p̂·q̂.
    /// </summary>
    private const string OpenDeviceRecordAsACopy = """
        async passphrase => {
          const database = (await indexedDB.databases()).find(d => d.name.startsWith('mpc-signer/user/')).name;
          const request = indexedDB.open(database);
          const db = await new Promise((resolve, reject) => { request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
          const get = (store, name) => new Promise((resolve, reject) => {
            const read = db.transaction(store).objectStore(store).get(name);
            read.onsuccess = () => resolve(read.result);
            read.onerror = () => reject(read.error);
          });
          const record = await get('device', 'profile');
          const key = await get('wrapping', 'aes-gcm');
          db.close();
          // The outer layer names the user (the hash in the database's name); the passphrase layer does not.
          const user = database.slice('mpc-signer/user/'.length);
          const associatedData = kind => new TextEncoder().encode(kind === 'device'
            ? `mpc-signer/browser-seal/v2\u0000${user}\u0000${kind}\u0000profile` : `mpc-signer/browser-seal/v1\u0000${kind}\u0000profile`);
          const hex = bytes => Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
          const trapdoorModulus = bytes => {
            const fields = [];
            for (let at = 0; at + 4 <= bytes.length;) {
              const length = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0);
              if (at + 4 + length > bytes.length) {
                return null;
              }
              fields.push(bytes.subarray(at + 4, at + 4 + length));
              at += 4 + length;
            }
            if (fields.length !== 7 || hex(fields[0]) !== '00000001') {
              return null;
            }
            const [n, , , p, q] = fields.slice(1).map(f => BigInt('0x' + (hex(f) || '0')));
            return p > 1n && q > 1n && p * q === n ? n.toString(16) : null;
          };
          const outer = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: record.iv, additionalData: associatedData('device') }, key, record.sealed));
          let inner = null;
          if (passphrase && record.passphrase) {
            const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
            const derived = await crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: record.passphrase.salt, iterations: record.passphrase.iterations },
              material, { name: 'AES-GCM', length: 256 }, false, ['decrypt']);
            inner = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: record.passphrase.iv, additionalData: associatedData('device-passphrase') }, derived, outer));
          }
          return { passphraseLayer: !!record.passphrase, outerModulus: trapdoorModulus(outer), innerModulus: inner && trapdoorModulus(inner) };
        }
        """;

    private static string? Modulus(JsonElement opened, string layer) =>
        opened.GetProperty(layer).ValueKind == JsonValueKind.Null ? null : opened.GetProperty(layer).GetString();

    [ChromiumFact]
    public async Task With_a_passphrase_a_copy_of_the_profile_opens_the_device_record_only_to_its_passphrase_layer()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-device-copy-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        (IPage page, JsonElement opened) = await OpenSignerPage(context, app, output, token, Passphrase);
        Assert.True(opened.GetProperty("created").GetBoolean());
        (string keyId, string pem) = await CreateKey(page);

        JsonElement copy = await Evaluate(page, OpenDeviceRecordAsACopy, Passphrase);
        Assert.Null(Modulus(copy, "outerModulus"));
        Assert.True(copy.GetProperty("passphraseLayer").GetBoolean());
        // With the passphrase the same bytes are the trapdoor: the check above does recognise it.
        Assert.NotNull(Modulus(copy, "innerModulus"));

        // Reopened with the passphrase: the stored parameters are used again, and the key signs.
        await page.ReloadAsync();
        Assert.False((await OpenSignerIn(page, app, token, Passphrase)).GetProperty("created").GetBoolean());
        Assert.Equal([keyId], await StoredKeyIds(page));
        AssertOpensslVerifies(pem, "signed with a sealed device", await Sign(page, keyId, "signed with a sealed device"));
    }

    [ChromiumFact]
    public async Task Device_parameters_stored_without_the_passphrase_layer_are_replaced_by_new_ones_once_a_passphrase_is_given()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-device-migration-user");
        string server = app.Server.WebAddress.ToString();
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);

        // No passphrase: one layer, which the profile's own key opens (what a copy taken now would hold).
        await Evaluate(page, OpenSigner, new[] { server, token });
        JsonElement old = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        JsonElement before = await Evaluate(page, OpenDeviceRecordAsACopy, "");
        string oldModulus = Modulus(before, "outerModulus") ?? throw new Xunit.Sdk.XunitException("the single-layer device record did not open to the trapdoor");

        // With a passphrase: those parameters are not used, new ones are made and sealed under both layers.
        await page.ReloadAsync();
        Assert.True((await Evaluate(page, OpenSigner, new[] { server, token, Passphrase })).GetProperty("created").GetBoolean());
        JsonElement after = await Evaluate(page, OpenDeviceRecordAsACopy, Passphrase);
        Assert.Null(Modulus(after, "outerModulus"));
        string newModulus = Modulus(after, "innerModulus") ?? throw new Xunit.Sdk.XunitException("the new device record did not open to the trapdoor with the passphrase");
        Assert.NotEqual(oldModulus, newModulus);

        // The key made before still opens and signs, and a new key is made with the new parameters and signs.
        string oldKeyId = old.GetProperty("keyId").GetString()!;
        Assert.Equal(oldKeyId, Assert.Single((await Evaluate(page, "async () => await window.signer.openStoredKeys()")).EnumerateArray()).GetProperty("keyId").GetString());
        AssertOpensslVerifies(old.GetProperty("publicKeyPem").GetString()!, "signed by the older key", await Sign(page, oldKeyId, "signed by the older key"));
        JsonElement fresh = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        string freshKeyId = fresh.GetProperty("keyId").GetString()!;
        AssertOpensslVerifies(fresh.GetProperty("publicKeyPem").GetString()!, "signed by the newer key", await Sign(page, freshKeyId, "signed by the newer key"));

        // Once replaced, the new parameters are kept.
        await page.ReloadAsync();
        Assert.False((await Evaluate(page, OpenSigner, new[] { server, token, Passphrase })).GetProperty("created").GetBoolean());
        Assert.Equal(newModulus, Modulus(await Evaluate(page, OpenDeviceRecordAsACopy, Passphrase), "innerModulus"));
    }

    [ChromiumFact]
    public async Task A_mistyped_passphrase_does_not_replace_device_parameters_that_lack_its_layer_and_the_right_one_then_does()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-device-migration-typo-user");
        string server = app.Server.WebAddress.ToString();
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);

        // As before the device record had the passphrase layer: a share sealed under the passphrase, the device
        // parameters under the profile's key only (the record of a first open without a passphrase, put back).
        await Evaluate(page, OpenSigner, new[] { server, token });
        await Evaluate(page, """
            async () => {
              const request = indexedDB.open((await indexedDB.databases()).find(d => d.name.startsWith('mpc-signer/user/')).name);
              const db = await new Promise((resolve, reject) => { request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
              window.singleLayer = await new Promise(resolve => { const read = db.transaction('device').objectStore('device').get('profile'); read.onsuccess = () => resolve(read.result); });
              db.close();
            }
            """);
        await Evaluate(page, OpenSigner, new[] { server, token, Passphrase });
        JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        string keyId = key.GetProperty("keyId").GetString()!;
        await Evaluate(page, """
            async () => {
              const request = indexedDB.open((await indexedDB.databases()).find(d => d.name.startsWith('mpc-signer/user/')).name);
              const db = await new Promise((resolve, reject) => { request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
              await new Promise((resolve, reject) => { const tx = db.transaction('device', 'readwrite'); tx.objectStore('device').put(window.singleLayer, 'profile'); tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
              db.close();
            }
            """);
        string planted = (await Evaluate(page, DumpIndexedDb)).GetRawText();

        // A typo opens nothing and changes nothing.
        await page.ReloadAsync();
        string refused = await page.EvaluateAsync<string>("""
            async ([server, token]) => {
              const { MpcSigner } = await import('./mpc-signer.js');
              try { await MpcSigner.open({ server, token, passphrase: 'not the passphrase' }); return 'opened'; } catch (e) { return e.message; }
            }
            """, new[] { server, token });
        Assert.Contains("this passphrase opens none of the stored shares sealed under one (mistyped?); nothing was changed", refused, StringComparison.Ordinal);
        Assert.Equal(planted, (await Evaluate(page, DumpIndexedDb)).GetRawText());

        // The right one replaces the parameters (as in the test above), and the key opens and signs.
        await page.ReloadAsync();
        Assert.True((await Evaluate(page, OpenSigner, new[] { server, token, Passphrase })).GetProperty("created").GetBoolean());
        Assert.Equal(keyId, Assert.Single((await Evaluate(page, "async () => await window.signer.openStoredKeys()")).EnumerateArray()).GetProperty("keyId").GetString());
        AssertOpensslVerifies(key.GetProperty("publicKeyPem").GetString()!, "after the typo", await Sign(page, keyId, "after the typo"));
    }

    [ChromiumFact]
    public async Task Records_sealed_at_once_by_the_first_calls_of_a_new_profile_all_open_under_the_one_stored_key()
    {
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        // Each seal finds no sealing key yet and makes one; one add wins, the others must use the stored key.
        JsonElement opened = await Evaluate(page, """
            async () => {
              const vault = await import('./mpc-vault.js');
              await vault.selectUser('browser-sealing-key-race-user');
              const secrets = [1, 2, 3, 4].map(i => crypto.getRandomValues(new Uint8Array(32)));
              const sealed = await Promise.allSettled(secrets.map((secret, i) => vault.sealPendingShare({ keyId: `key-${i}`, curve: 'p256' }, secret.slice())));
              const errors = sealed.filter(s => s.status === 'rejected').map(s => String(s.reason?.name ?? s.reason));
              const hex = bytes => Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
              const records = await vault.listPendingShares();
              const matches = [];
              for (const record of records) {
                matches.push(hex(await vault.openShare(record)) === hex(secrets[Number(record.keyId.slice(4))]));
              }
              return { errors, matches };
            }
            """);
        Assert.Empty(opened.GetProperty("errors").EnumerateArray());
        Assert.Equal([true, true, true, true], opened.GetProperty("matches").EnumerateArray().Select(m => m.GetBoolean()));
    }
}
