using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Mpc.Browser.Tests.BrowserPage;

namespace Mpc.Browser.Tests;

/// <summary>
/// The vault (mpc-vault.js) split per user: two users of one browser profile (a shared computer) each keep, settle
/// and sign with their own keys only; a record moved from one user's vault into another's fails to open; and the
/// earlier single-user vault is adopted by the user the server lists its keys for, and by nobody else.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserVaultPartitionTests(BrowserApp app, ITestOutputHelper output)
{
    private const string Passphrase = "correct horse battery staple";

    /// <summary>
    /// Copies records ([store, name] pairs), raw IndexedDB values as they are, from database <c>from</c> into
    /// database <c>to</c> (both must exist), as someone editing the profile's files could.
    /// </summary>
    private const string CopyRecords = """
        async ([from, to, records]) => {
          const open = name => new Promise((resolve, reject) => { const r = indexedDB.open(name); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
          const source = await open(from);
          const values = [];
          for (const [store, name] of records) {
            const read = source.transaction(store).objectStore(store).get(name);
            values.push(await new Promise((resolve, reject) => { read.onsuccess = () => resolve(read.result); read.onerror = () => reject(read.error); }));
          }
          source.close();
          const target = await open(to);
          const tx = target.transaction([...new Set(records.map(([store]) => store))], 'readwrite');
          records.forEach(([store, name], i) => {
            const objects = tx.objectStore(store);
            if (objects.keyPath === null) { objects.put(values[i], name); } else { objects.put(values[i]); }
          });
          await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
          target.close();
          return values.map(v => v !== undefined);
        }
        """;

    [ChromiumFact]
    public async Task Two_users_of_one_browser_profile_each_keep_settle_and_sign_with_only_their_own_keys()
    {
        const string UserA = "browser-partition-user-a", UserB = "browser-partition-user-b";
        await app.Server.StartAsync(app.Origin);
        string tokenA = await app.Server.TokenAsync(UserA);
        string tokenB = await app.Server.TokenAsync(UserB);
        await using IBrowserContext context = await app.Browser.NewContextAsync();

        // A makes a key, then one whose confirmation never reaches the server: its pending record stays in A's vault.
        (IPage pageA, JsonElement openedA) = await OpenSignerPage(context, app, output, tokenA);
        Assert.True(openedA.GetProperty("created").GetBoolean());
        (string keyA, string pemA) = await CreateKey(pageA);
        await Evaluate(pageA, "async () => await window.signer.dropConfirmationsForTest()");
        Assert.Contains("may or may not have been stored", await ErrorOf(pageA, "() => window.signer.createKey({ curve: 'p256' })"), StringComparison.Ordinal);

        // B, same profile and origin: device parameters of its own, and a key made, settled and opened past A's pending record.
        (IPage pageB, JsonElement openedB) = await OpenSignerPage(context, app, output, tokenB);
        Assert.True(openedB.GetProperty("created").GetBoolean());
        (string keyB, string pemB) = await CreateKey(pageB);
        Assert.Equal([keyB], await StoredKeyIds(pageB));
        AssertOpensslVerifies(pemB, "signed by B", await Sign(pageB, keyB, "signed by B"));
        Assert.NotEqual("ok", await ErrorOf(pageB, "keyId => window.signer.sign(keyId, 'B signs with A')", keyA));

        // A, reopened: its own device parameters again, its pending key settled, its two keys and not B's.
        await pageA.ReloadAsync();
        Assert.False((await OpenSignerIn(pageA, app, tokenA)).GetProperty("created").GetBoolean());
        string[] keysOfA = await StoredKeyIds(pageA);
        Assert.Equal(2, keysOfA.Length);
        Assert.Contains(keyA, keysOfA);
        Assert.DoesNotContain(keyB, keysOfA);
        AssertOpensslVerifies(pemA, "signed by A", await Sign(pageA, keyA, "signed by A"));

        // Two vaults, each with its own sealing key and device record; B's holds nothing of A's keys.
        using JsonDocument vaultA = JsonDocument.Parse((await Evaluate(pageA, DumpIndexedDb, VaultDatabaseOf(UserA))).GetString()!);
        using JsonDocument vaultB = JsonDocument.Parse((await Evaluate(pageB, DumpIndexedDb, VaultDatabaseOf(UserB))).GetString()!);
        string deviceA = Assert.Single(vaultA.RootElement.GetProperty("device").EnumerateArray()).GetProperty("sealed").GetString()!;
        string deviceB = Assert.Single(vaultB.RootElement.GetProperty("device").EnumerateArray()).GetProperty("sealed").GetString()!;
        Assert.NotEqual(deviceA, deviceB);
        Assert.Equal([keyB], vaultB.RootElement.GetProperty("shares").EnumerateArray().Select(r => r.GetProperty("keyId").GetString()!));
        Assert.Empty(vaultB.RootElement.GetProperty("pending").EnumerateArray());
        // And no database besides (looking for the earlier single vault creates none).
        Assert.Equal(new[] { VaultDatabaseOf(UserA), VaultDatabaseOf(UserB) }.Order(StringComparer.Ordinal),
            (await pageA.EvaluateAsync<string[]>("async () => (await indexedDB.databases()).map(d => d.name)")).Order(StringComparer.Ordinal));
    }

    [ChromiumFact]
    public async Task A_share_record_copied_into_another_users_vault_fails_to_open_there_and_nothing_stored_changes()
    {
        const string UserA = "browser-copy-user-a", UserB = "browser-copy-user-b", UserC = "browser-copy-user-c";
        await app.Server.StartAsync(app.Origin);
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        (IPage pageA, _) = await OpenSignerPage(context, app, output, await app.Server.TokenAsync(UserA));
        (string keyA, _) = await CreateKey(pageA);
        (IPage pageB, _) = await OpenSignerPage(context, app, output, await app.Server.TokenAsync(UserB));
        (string keyB, string pemB) = await CreateKey(pageB);

        Assert.Equal([true], (await Evaluate(pageB, CopyRecords, new object[] { VaultDatabaseOf(UserA), VaultDatabaseOf(UserB), new[] { new[] { "shares", keyA } } }))
            .EnumerateArray().Select(e => e.GetBoolean()));
        string before = (await Evaluate(pageB, DumpIndexedDb, VaultDatabaseOf(UserB))).GetString()!;
        string refused = await ErrorOf(pageB, "() => window.signer.openStoredKeys()");
        Assert.Contains($"the stored share {keyA} fails its integrity check", refused, StringComparison.Ordinal);
        Assert.Contains("moved from another user's vault", refused, StringComparison.Ordinal);
        Assert.Equal(before, (await Evaluate(pageB, DumpIndexedDb, VaultDatabaseOf(UserB))).GetString());
        // B's own key is untouched by the planted record.
        AssertOpensslVerifies(pemB, "B after the copy", await Sign(pageB, keyB, "B after the copy"));

        // Not only because B's vault has a sealing key of its own: beside A's sealing key itself, copied too, in a
        // third user's vault, A's record still fails (the user is in the associated data), and A's opens at home.
        string opened = (await Evaluate(pageB, """
            async userC => {
              const vault = await import('./mpc-vault.js');
              await vault.selectUser(userC);
              await vault.sealPendingShare({ keyId: 'makes-the-vault', curve: 'p256' }, crypto.getRandomValues(new Uint8Array(32)));
              return 'made';
            }
            """, UserC)).GetString()!;
        Assert.Equal("made", opened);
        await Evaluate(pageB, CopyRecords, new object[] { VaultDatabaseOf(UserA), VaultDatabaseOf(UserC), new[] { new[] { "wrapping", "aes-gcm" }, new[] { "shares", keyA } } });
        string crossed = (await Evaluate(pageB, """
            async () => {
              const vault = await import('./mpc-vault.js');
              const [record] = await vault.listShares();
              try { (await vault.openShare(record)).fill(0); return 'opened'; } catch (e) { return e.message; }
            }
            """)).GetString()!;
        Assert.Contains($"the stored share {keyA} fails its integrity check", crossed, StringComparison.Ordinal);
        await pageA.ReloadAsync();
        await OpenSignerIn(pageA, app, await app.Server.TokenAsync(UserA));
        Assert.Equal([keyA], await StoredKeyIds(pageA));
    }

    /// <summary>
    /// The share record of [database, keyId] with its outer layer opened (the test knows the format: AES-GCM under the
    /// stored key, associated data v2 ‖ user ‖ "share" ‖ key id): what the earlier version sealed under its own layer.
    /// Bytes as hex.
    /// </summary>
    private const string ShareUnderOuterLayer = """
        async ([database, keyId]) => {
          const request = indexedDB.open(database);
          const db = await new Promise((resolve, reject) => { request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
          const get = (store, name) => new Promise((resolve, reject) => { const r = db.transaction(store).objectStore(store).get(name); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
          const record = await get('shares', keyId);
          const key = await get('wrapping', 'aes-gcm');
          db.close();
          const user = database.slice('mpc-signer/user/'.length);
          const inner = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: record.iv,
            additionalData: new TextEncoder().encode(`mpc-signer/browser-seal/v2\u0000${user}\u0000share\u0000${keyId}`) }, key, record.sealed));
          const hex = bytes => Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
          const layer = record.passphrase;
          return { keyId, curve: record.curve, publicKeyPem: record.publicKeyPem, inner: hex(inner),
            passphrase: layer && { kdf: layer.kdf, iterations: layer.iterations, salt: hex(layer.salt), iv: hex(layer.iv) } };
        }
        """;

    /// <summary>
    /// Writes the vault as the earlier version left it: database "mpc-signer", version 3, one non-extractable sealing
    /// key, associated data v1 ‖ kind ‖ name; the given share (its passphrase layer as it was), also as a set-aside
    /// record of its key, a device record, and a share of a key no user of this server has.
    /// </summary>
    private const string WriteLegacyVault = """
        async json => {
          const share = JSON.parse(json);
          const bytes = hex => Uint8Array.from(hex.match(/../g), h => parseInt(h, 16));
          const request = indexedDB.open('mpc-signer', 3);
          request.onupgradeneeded = () => {
            const db = request.result;
            for (const [name, options] of [['wrapping'], ['shares', { keyPath: 'keyId' }], ['device'], ['pending'], ['enrolment']]) {
              db.createObjectStore(name, options);
            }
          };
          const db = await new Promise((resolve, reject) => { request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
          const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
          const seal = async (kind, name, plaintext) => {
            const iv = crypto.getRandomValues(new Uint8Array(12));
            const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv,
              additionalData: new TextEncoder().encode(`mpc-signer/browser-seal/v1\u0000${kind}\u0000${name}`) }, key, plaintext));
            return { format: 'mpc-signer/browser-seal/v1', iv, sealed };
          };
          const layer = share.passphrase && { ...share.passphrase, salt: bytes(share.passphrase.salt), iv: bytes(share.passphrase.iv) };
          const owned = { keyId: share.keyId, curve: share.curve, publicKeyPem: share.publicKeyPem,
            ...await seal('share', share.keyId, bytes(share.inner)), ...(layer ? { passphrase: layer } : {}) };
          const stranger = { keyId: 'key-of-nobody-here', curve: 'p256', publicKeyPem: share.publicKeyPem,
            ...await seal('share', 'key-of-nobody-here', crypto.getRandomValues(new Uint8Array(64))) };
          const device = await seal('device', 'profile', crypto.getRandomValues(new Uint8Array(64)));
          const tx = db.transaction(['wrapping', 'shares', 'pending', 'device'], 'readwrite');
          tx.objectStore('wrapping').put(key, 'aes-gcm');
          tx.objectStore('shares').put(owned);
          tx.objectStore('pending').put({ ...owned, ...await seal('share', share.keyId, bytes(share.inner)) }, `unconfirmed:${share.keyId}:00112233445566ff`);
          tx.objectStore('shares').put(stranger);
          tx.objectStore('device').put(device, 'profile');
          await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
          db.close();
          return true;
        }
        """;

    /// <summary>The key ids in the legacy database's shares store, or null when that database no longer exists.</summary>
    private const string LegacyShareKeyIds = """
        async () => {
          if (!(await indexedDB.databases()).some(d => d.name === 'mpc-signer')) { return null; }
          const request = indexedDB.open('mpc-signer');
          const db = await new Promise((resolve, reject) => { request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
          const read = db.transaction('shares').objectStore('shares').getAllKeys();
          const names = await new Promise((resolve, reject) => { read.onsuccess = () => resolve(read.result); read.onerror = () => reject(read.error); });
          const count = store => new Promise(resolve => { const r = db.transaction(store).objectStore(store).count(); r.onsuccess = () => resolve(r.result); });
          const [devices, pending] = [await count('device'), await count('pending')];
          db.close();
          return { shares: names.sort(), devices, pending };
        }
        """;

    [ChromiumFact]
    public async Task The_earlier_single_user_vault_is_adopted_by_the_user_the_server_lists_its_key_for_and_by_no_other()
    {
        const string Owner = "browser-legacy-owner", Other = "browser-legacy-other";
        await app.Server.StartAsync(app.Origin);
        string ownerToken = await app.Server.TokenAsync(Owner);
        string otherToken = await app.Server.TokenAsync(Other);

        // The owner's key, made with a passphrase; its share (passphrase layer and all) is written into a new profile
        // as the earlier version stored it.
        string keyId, pem;
        JsonElement share;
        await using (IBrowserContext first = await app.Browser.NewContextAsync())
        {
            (IPage page, _) = await OpenSignerPage(first, app, output, ownerToken, Passphrase);
            (keyId, pem) = await CreateKey(page);
            share = (await Evaluate(page, ShareUnderOuterLayer, new[] { VaultDatabaseOf(Owner), keyId })).Clone();
            Assert.Equal(JsonValueKind.Object, share.GetProperty("passphrase").ValueKind);
        }
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage harness = await OpenHarness(context, app, output);
        await Evaluate(harness, WriteLegacyVault, share.GetRawText());
        string[] legacyKeys = [keyId, "key-of-nobody-here"];
        Array.Sort(legacyKeys, StringComparer.Ordinal);

        // Another user opens first: the server lists no such key for them, so nothing is adopted or removed.
        (IPage otherPage, _) = await OpenSignerPage(context, app, output, otherToken);
        Assert.Empty(await StoredKeyIds(otherPage));
        JsonElement untouched = await Evaluate(otherPage, LegacyShareKeyIds);
        Assert.Equal(legacyKeys, untouched.GetProperty("shares").EnumerateArray().Select(k => k.GetString()!));
        Assert.Equal(1, untouched.GetProperty("pending").GetInt32());

        // The owner, passphrase mistyped: the key is adopted (the server lists it), but no device parameters are sealed
        // under the typo, which would refuse the right passphrase at every later open.
        IPage ownerPage = await OpenHarness(context, app, output);
        JsonElement mistyped = await Evaluate(ownerPage, """
            async ([server, token]) => {
              const { MpcSigner } = await import('./mpc-signer.js');
              const stages = [];
              try { await MpcSigner.open({ server, token, passphrase: 'not the passphrase', onProgress: p => stages.push(p.stage) }); return { error: 'opened', stages }; }
              catch (e) { return { error: e.message, stages }; }
            }
            """, new[] { app.Server.WebAddress.ToString(), ownerToken });
        Assert.Contains("this passphrase opens none of the stored shares sealed under one (mistyped?)", mistyped.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("vault-adopted", mistyped.GetProperty("stages").EnumerateArray().Select(s => s.GetString()));
        using (JsonDocument vault = JsonDocument.Parse((await Evaluate(ownerPage, DumpIndexedDb, VaultDatabaseOf(Owner))).GetString()!))
        {
            Assert.Empty(vault.RootElement.GetProperty("device").EnumerateArray());
        }

        // The right passphrase: new device parameters (the old record is nobody's), the adopted key opens under it and signs.
        await ownerPage.ReloadAsync();
        JsonElement opened = await OpenSignerIn(ownerPage, app, ownerToken, Passphrase);
        Assert.True(opened.GetProperty("created").GetBoolean());
        Assert.Equal([keyId], await StoredKeyIds(ownerPage));
        AssertOpensslVerifies(pem, "signed after the move", await Sign(ownerPage, keyId, "signed after the move"));
        using (JsonDocument vault = JsonDocument.Parse((await Evaluate(ownerPage, DumpIndexedDb, VaultDatabaseOf(Owner))).GetString()!))
        {
            JsonElement adopted = Assert.Single(vault.RootElement.GetProperty("shares").EnumerateArray());
            Assert.Equal("mpc-signer/browser-seal/v2", adopted.GetProperty("format").GetString());
            Assert.Equal(share.GetProperty("passphrase").GetProperty("salt").GetString(), adopted.GetProperty("passphrase").GetProperty("salt").GetString());
            Assert.Equal(keyId, Assert.Single(vault.RootElement.GetProperty("pending").EnumerateArray()).GetProperty("keyId").GetString());
        }

        // What the owner's server does not list stays for its user, and so does the database with its device record.
        JsonElement left = await Evaluate(ownerPage, LegacyShareKeyIds);
        Assert.Equal(["key-of-nobody-here"], left.GetProperty("shares").EnumerateArray().Select(k => k.GetString()!));
        Assert.Equal(1, left.GetProperty("devices").GetInt32());
        Assert.Equal(0, left.GetProperty("pending").GetInt32());

        // Opened again, the owner finds the one key; the other user still none.
        await ownerPage.ReloadAsync();
        await OpenSignerIn(ownerPage, app, ownerToken, Passphrase);
        Assert.Equal([keyId], await StoredKeyIds(ownerPage));
        await otherPage.ReloadAsync();
        await OpenSignerIn(otherPage, app, otherToken);
        Assert.Empty(await StoredKeyIds(otherPage));
    }

    [ChromiumFact]
    public async Task Open_refuses_a_token_without_a_user_and_a_user_id_other_than_the_tokens()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-partition-named-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        const string open = """
            async ([server, token, userId]) => {
              const { MpcSigner } = await import('./mpc-signer.js');
              try { (await MpcSigner.open({ server, token, userId: userId || undefined })).close(); return 'opened'; } catch (e) { return e.message; }
            }
            """;
        string server = app.Server.WebAddress.ToString();
        Assert.Contains("the token has no \"sub\": pass { userId }", (await Evaluate(page, open, new[] { server, "opaque-token", "" })).GetString(), StringComparison.Ordinal);
        Assert.Contains("userId is not the token's \"sub\"", (await Evaluate(page, open, new[] { server, token, "someone-else" })).GetString(), StringComparison.Ordinal);
        Assert.Empty((await page.EvaluateAsync<string[]>("async () => (await indexedDB.databases()).map(d => d.name)")));
    }
}
