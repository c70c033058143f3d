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
[Collection(BrowserCollection.Name)]
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
}
