using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Mpc.Browser.Tests.BrowserPage;

namespace Mpc.Browser.Tests;

/// <summary>
/// The browser's crash-safe refresh (the browser's PendingKeyFile): the new share is sealed in IndexedDB as a pending
/// record before the server switches to it, so a reply lost after the switch leaves a working share. The loss is made
/// with the test build's hook (<c>-p:MpcBrowserTestHooks=true</c>: the refresh fails after the server call returned).
/// </summary>
[Collection(BrowserCustodyCollection.Name)]
public sealed class BrowserPendingShareTests(BrowserApp app, ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task A_refresh_whose_reply_is_lost_after_the_switch_leaves_a_sealed_pending_share_that_signs_after_a_reload()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-pending-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        string keyId = key.GetProperty("keyId").GetString()!;
        string pem = key.GetProperty("publicKeyPem").GetString()!;
        string oldX2 = (await Evaluate(page, "async keyId => await window.signer.shareScalarHexForTest(keyId)", keyId)).GetString()!;

        await Evaluate(page, "async () => await window.signer.loseNextReplyForTest()");
        string failure = (await Evaluate(page, """
            async keyId => { try { await window.signer.refresh(keyId); return 'refreshed'; } catch (e) { return e.message; } }
            """, keyId)).GetString()!;
        Assert.Contains("reply was lost", failure, StringComparison.Ordinal);

        // The server switched; the new share waits sealed in the pending store, beside the (now dead) current record.
        using JsonDocument before = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!);
        JsonElement pending = Assert.Single(before.RootElement.GetProperty("pending").EnumerateArray());
        Assert.Equal(keyId, pending.GetProperty("keyId").GetString());
        string pendingSealed = pending.GetProperty("sealed").GetString()!;
        Assert.NotEqual(pendingSealed, Assert.Single(before.RootElement.GetProperty("shares").EnumerateArray()).GetProperty("sealed").GetString());
        string storedBefore = before.RootElement.GetRawText();

        // Reload: opening the stored keys asks the server which share it holds, and the pending one becomes current.
        await page.ReloadAsync();
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        Assert.Equal(keyId, Assert.Single((await Evaluate(page, "async () => await window.signer.openStoredKeys()")).EnumerateArray()).GetProperty("keyId").GetString());
        AssertOpensslVerifies(pem, "signed after a lost refresh reply", await Sign(page, keyId, "signed after a lost refresh reply"));

        string newX2 = (await Evaluate(page, "async keyId => await window.signer.shareScalarHexForTest(keyId)", keyId)).GetString()!;
        Assert.NotEqual(oldX2, newX2);
        // The pending record held the new share sealed, never in clear.
        Assert.DoesNotContain(newX2, storedBefore, StringComparison.OrdinalIgnoreCase);
        using JsonDocument after = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!);
        Assert.Empty(after.RootElement.GetProperty("pending").EnumerateArray());
        JsonElement current = Assert.Single(after.RootElement.GetProperty("shares").EnumerateArray());
        Assert.Equal(pendingSealed, current.GetProperty("sealed").GetString());
        Assert.Equal(pem, current.GetProperty("publicKeyPem").GetString());

        // And the settled key refreshes normally afterwards.
        await Evaluate(page, "async keyId => await window.signer.refresh(keyId)", keyId);
        AssertOpensslVerifies(pem, "signed after the next refresh", await Sign(page, keyId, "signed after the next refresh"));
    }

    /// <summary>Turns on the test hook <paramref name="hook"/>, then runs createKey(), which must fail: its message.</summary>
    private static async Task<string> CreateKeyFailingAfter(IPage page, string hook)
    {
        await Evaluate(page, $"async () => await window.signer.{hook}()");
        return (await Evaluate(page, """
            async () => { try { await window.signer.createKey({ curve: 'p256' }); return 'created'; } catch (e) { return e.message; } }
            """)).GetString()!;
    }

    /// <summary>Reloads the page (a new worker), opens the signer again and its stored keys: the one key, which must be <paramref name="keyId"/>.</summary>
    private async Task<JsonElement> ReopenedKey(IPage page, string token, string keyId)
    {
        await page.ReloadAsync();
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        JsonElement opened = Assert.Single((await Evaluate(page, "async () => await window.signer.openStoredKeys()")).EnumerateArray());
        Assert.Equal(keyId, opened.GetProperty("keyId").GetString());
        return opened;
    }

    [ChromiumFact]
    public async Task A_key_generation_whose_confirmation_reply_is_lost_leaves_a_sealed_pending_share_that_signs_after_a_reload()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-pending-keygen-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });

        string failure = await CreateKeyFailingAfter(page, "loseNextReplyForTest");
        Assert.Contains("may or may not have been stored", failure, StringComparison.Ordinal);
        Assert.Contains("openStoredKeys() settles it", failure, StringComparison.Ordinal);

        // The server stored the key; its only client share waits sealed in the pending store, and no current record exists.
        using JsonDocument before = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!);
        JsonElement pending = Assert.Single(before.RootElement.GetProperty("pending").EnumerateArray());
        string keyId = pending.GetProperty("keyId").GetString()!;
        string pendingSealed = pending.GetProperty("sealed").GetString()!;
        Assert.Empty(before.RootElement.GetProperty("shares").EnumerateArray());

        JsonElement opened = await ReopenedKey(page, token, keyId);
        string pem = opened.GetProperty("publicKeyPem").GetString()!;
        AssertOpensslVerifies(pem, "signed after a lost key generation reply", await Sign(page, keyId, "signed after a lost key generation reply"));

        using JsonDocument after = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!);
        Assert.Empty(after.RootElement.GetProperty("pending").EnumerateArray());
        JsonElement current = Assert.Single(after.RootElement.GetProperty("shares").EnumerateArray());
        Assert.Equal(pendingSealed, current.GetProperty("sealed").GetString());
        Assert.Equal(pem, current.GetProperty("publicKeyPem").GetString());
    }

    [ChromiumFact]
    public async Task A_key_generation_whose_confirmations_never_arrive_leaves_its_key_unstored_until_the_next_open_confirms_it()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-unconfirmed-keygen-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });

        string failure = await CreateKeyFailingAfter(page, "dropConfirmationsForTest");
        Assert.Contains("may or may not have been stored", failure, StringComparison.Ordinal);
        using JsonDocument before = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!);
        string keyId = Assert.Single(before.RootElement.GetProperty("pending").EnumerateArray()).GetProperty("keyId").GetString()!;
        // Nothing reached the server's storage: the user has no key yet.
        Assert.Empty((await Evaluate(page, "async () => await window.signer.listKeys()")).EnumerateArray());

        // A new worker (the hook is gone): settling finds no such key and confirms it, and the key signs.
        JsonElement opened = await ReopenedKey(page, token, keyId);
        Assert.Equal(keyId, Assert.Single((await Evaluate(page, "async () => await window.signer.listKeys()")).EnumerateArray()).GetProperty("keyId").GetString());
        AssertOpensslVerifies(opened.GetProperty("publicKeyPem").GetString()!, "signed once confirmed", await Sign(page, keyId, "signed once confirmed"));
        using JsonDocument after = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!);
        Assert.Empty(after.RootElement.GetProperty("pending").EnumerateArray());
        Assert.Single(after.RootElement.GetProperty("shares").EnumerateArray());
    }

    /// <summary>
    /// The other end of settling a key generation: the server restarted before any confirmation reached it, so the key
    /// it held unconfirmed (in memory only) is gone and can never be stored. The pending record is set aside (kept,
    /// never deleted, never tried again), nothing is listed, and the user's next key generation works.
    /// </summary>
    [ChromiumFact]
    public async Task A_key_generation_the_server_forgot_before_its_confirmation_is_set_aside_and_the_next_one_signs()
    {
        // A server of its own: this test restarts it.
        await using var server = new SigningServer();
        await server.StartAsync(app.Origin);
        string token = await server.TokenAsync("browser-forgotten-keygen-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        await Evaluate(page, OpenSigner, new[] { server.WebAddress.ToString(), token });

        string failure = await CreateKeyFailingAfter(page, "dropConfirmationsForTest");
        Assert.Contains("may or may not have been stored", failure, StringComparison.Ordinal);
        using JsonDocument before = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!);
        JsonElement pending = Assert.Single(before.RootElement.GetProperty("pending").EnumerateArray());
        string keyId = pending.GetProperty("keyId").GetString()!;
        Assert.Equal([$"pending:{keyId}"], await PendingStoreNames(page));

        await server.RestartAsync();
        await page.ReloadAsync();
        await Evaluate(page, OpenSigner, new[] { server.WebAddress.ToString(), token });
        Assert.Empty((await Evaluate(page, "async () => await window.signer.openStoredKeys()")).EnumerateArray());
        Assert.Empty((await Evaluate(page, "async () => await window.signer.listKeys()")).EnumerateArray());
        // Set aside, byte for byte, under its own name: no later open tries it again.
        Assert.StartsWith($"unconfirmed:{keyId}:", Assert.Single(await PendingStoreNames(page)), StringComparison.Ordinal);
        using JsonDocument after = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!);
        Assert.Equal(pending.GetRawText(), Assert.Single(after.RootElement.GetProperty("pending").EnumerateArray()).GetRawText());
        Assert.Empty(after.RootElement.GetProperty("shares").EnumerateArray());
        Assert.Empty((await Evaluate(page, "async () => await window.signer.openStoredKeys()")).EnumerateArray());

        JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        string newKeyId = key.GetProperty("keyId").GetString()!;
        Assert.NotEqual(keyId, newKeyId);
        AssertOpensslVerifies(key.GetProperty("publicKeyPem").GetString()!, "signed after a forgotten key generation", await Sign(page, newKeyId, "signed after a forgotten key generation"));
    }

    /// <summary>
    /// A confirmation still in flight may make any share the server never took the one it holds: so each share set aside
    /// is kept under a name of its own, and a later one of the same key does not replace it. Two shares the server no
    /// longer holds (the key's shares before each of two refreshes) are planted in turn as its pending record and settled.
    /// </summary>
    [ChromiumFact]
    public async Task Shares_of_one_key_set_aside_in_turn_are_all_kept()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-set-aside-twice-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        string keyId = key.GetProperty("keyId").GetString()!;
        var setAside = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            JsonElement earlier = await Evaluate(page, StoreRecord, new[] { "shares", keyId });
            setAside.Add(earlier.GetProperty("sealed").GetString()!);
            await Evaluate(page, "async keyId => await window.signer.refresh(keyId)", keyId);
            await Evaluate(page, PlantPendingRecord, keyId);
            Assert.Equal(keyId, Assert.Single((await Evaluate(page, "async () => await window.signer.openStoredKeys()")).EnumerateArray()).GetProperty("keyId").GetString());
        }

        string[] names = await PendingStoreNames(page);
        Assert.Equal(2, names.Length);
        Assert.All(names, name => Assert.StartsWith($"unconfirmed:{keyId}:", name, StringComparison.Ordinal));
        using JsonDocument stored = JsonDocument.Parse((await Evaluate(page, DumpIndexedDb)).GetString()!);
        Assert.Equal(setAside.Order(), stored.RootElement.GetProperty("pending").EnumerateArray().Select(r => r.GetProperty("sealed").GetString()!).Order());
        AssertOpensslVerifies(key.GetProperty("publicKeyPem").GetString()!, "signed beside two set-aside shares", await Sign(page, keyId, "signed beside two set-aside shares"));
    }

    /// <summary>One record of a vault store ([store, name]), bytes as hex; the record itself is kept as window.planted.</summary>
    private const string StoreRecord = """
        async ([store, name]) => {
          const request = indexedDB.open((await indexedDB.databases()).find(d => d.name.startsWith('mpc-signer/user/')).name);
          const db = await new Promise((resolve, reject) => { request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
          const read = db.transaction(store).objectStore(store).get(name);
          window.planted = await new Promise((resolve, reject) => { read.onsuccess = () => resolve(read.result); read.onerror = () => reject(read.error); });
          db.close();
          return { sealed: Array.from(window.planted.sealed, b => b.toString(16).padStart(2, '0')).join('') };
        }
        """;

    /// <summary>Puts window.planted as the pending record of the key, as a run whose reply was lost would have left it.</summary>
    private const string PlantPendingRecord = """
        async keyId => {
          const request = indexedDB.open((await indexedDB.databases()).find(d => d.name.startsWith('mpc-signer/user/')).name);
          const db = await new Promise((resolve, reject) => { request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
          const tx = db.transaction('pending', 'readwrite');
          tx.objectStore('pending').put(window.planted, `pending:${keyId}`);
          await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
          db.close();
          return true;
        }
        """;

    /// <summary>The names of the records in the vault's pending store ("pending:" + key id, or "unconfirmed:" + key id + ":" + random hex once set aside).</summary>
    private static async Task<string[]> PendingStoreNames(IPage page) =>
        (await Evaluate(page, """
            async () => {
              const request = indexedDB.open((await indexedDB.databases()).find(d => d.name.startsWith('mpc-signer/user/')).name);
              const db = await new Promise((resolve, reject) => { request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
              const all = db.transaction('pending').objectStore('pending').getAllKeys();
              const names = await new Promise((resolve, reject) => { all.onsuccess = () => resolve(all.result); all.onerror = () => reject(all.error); });
              db.close();
              return names;
            }
            """)).EnumerateArray().Select(name => name.GetString()!).ToArray();

    [ChromiumFact]
    public async Task A_restore_whose_reply_is_lost_is_settled_by_the_next_refresh_in_the_same_worker_and_the_key_signs()
    {
        const string Passphrase = "correct horse battery staple";
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-pending-restore-user");
        string keyId, pem, backup;
        await using (IBrowserContext first = await app.Browser.NewContextAsync())
        {
            IPage page = await OpenHarness(first, app, output);
            await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
            JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
            keyId = key.GetProperty("keyId").GetString()!;
            pem = key.GetProperty("publicKeyPem").GetString()!;
            backup = (await Evaluate(page, "async ([keyId, passphrase]) => window.toBase64(await window.signer.backup(keyId, { passphrase }))",
                new[] { keyId, Passphrase })).GetString()!;
        }

        // A new profile restores the backup; the reply is lost after the server switched to the restored pair.
        await using IBrowserContext second = await app.Browser.NewContextAsync();
        IPage fresh = await OpenHarness(second, app, output);
        await Evaluate(fresh, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        await Evaluate(fresh, "async () => await window.signer.loseNextReplyForTest()");
        string failure = (await Evaluate(fresh, """
            async ([file, passphrase]) => { try { await window.signer.restore(Uint8Array.from(atob(file), c => c.charCodeAt(0)), { passphrase }); return 'restored'; } catch (e) { return e.message; } }
            """, new[] { backup, Passphrase })).GetString()!;
        Assert.Contains("reply was lost", failure, StringComparison.Ordinal);
        using JsonDocument before = JsonDocument.Parse((await Evaluate(fresh, DumpIndexedDb)).GetString()!);
        Assert.Empty(before.RootElement.GetProperty("shares").EnumerateArray());
        Assert.Equal(keyId, Assert.Single(before.RootElement.GetProperty("pending").EnumerateArray()).GetProperty("keyId").GetString());

        // No reload: the next refresh of that key settles the pending share first and reports it as the key's share.
        JsonElement settled = await Evaluate(fresh, "async keyId => await window.signer.refresh(keyId)", keyId);
        Assert.Equal(pem, settled.GetProperty("publicKeyPem").GetString());
        AssertOpensslVerifies(pem, "signed after a lost restore reply", await Sign(fresh, keyId, "signed after a lost restore reply"));
        string x2 = (await Evaluate(fresh, "async keyId => await window.signer.shareScalarHexForTest(keyId)", keyId)).GetString()!;
        Assert.DoesNotContain(x2, before.RootElement.GetRawText(), StringComparison.OrdinalIgnoreCase);

        // The settled record is the current one: after a reload it opens and signs.
        await fresh.ReloadAsync();
        await Evaluate(fresh, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        Assert.Equal(keyId, Assert.Single((await Evaluate(fresh, "async () => await window.signer.openStoredKeys()")).EnumerateArray()).GetProperty("keyId").GetString());
        AssertOpensslVerifies(pem, "signed after a lost restore reply and a reload", await Sign(fresh, keyId, "signed after a lost restore reply and a reload"));
    }
}
