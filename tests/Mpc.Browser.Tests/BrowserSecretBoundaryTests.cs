using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Mpc.Browser.Tests.BrowserPage;

namespace Mpc.Browser.Tests;

/// <summary>
/// Secrets crossing between the worker's JavaScript and .NET (BrowserSecrets.cs, mpc-worker.js) are wiped on both sides
/// once used. The test build records every array that crossed (the .NET arrays handed out or taken in, and the worker's
/// copies of them); after each kind of crossing has run, every one of them is all zeros, while the keys still work (so
/// the bytes did get across). It cannot see copies the engines make on their own (garbage-collector moves, the
/// IndexedDB and WebCrypto internals, JS strings).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserSecretBoundaryTests(BrowserApp app, ITestOutputHelper output)
{
    private const string Copies = "async () => await window.signer.secretCopiesForTest()";

    /// <summary>Exactly <paramref name="crossings"/> arrays crossed, one on each side per crossing, and none is left unzeroed.</summary>
    private static void AllZeroed(JsonElement copies, int crossings)
    {
        foreach (string side in new[] { "dotnet", "worker" })
        {
            JsonElement counts = copies.GetProperty(side);
            Assert.Equal((side, crossings, 0), (side, counts.GetProperty("count").GetInt32(), counts.GetProperty("notZeroed").GetInt32()));
        }
    }

    [ChromiumFact]
    public async Task Every_secret_array_that_crosses_between_the_worker_and_dotnet_is_zeroed_on_both_sides()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-boundary-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);

        // .NET to the worker: the device parameters (setupDevice), a new share (createKey), a pending enrolment request.
        Assert.True((await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token })).GetProperty("created").GetBoolean());
        AllZeroed(await Evaluate(page, Copies), 1);
        JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        string keyId = key.GetProperty("keyId").GetString()!;
        string pem = key.GetProperty("publicKeyPem").GetString()!;
        AllZeroed(await Evaluate(page, Copies), 2);
        await Evaluate(page, "async keyId => await window.signer.requestEnrolment(keyId)", keyId);
        AllZeroed(await Evaluate(page, Copies), 3);

        // The worker to .NET: the unsealed pending enrolment, for a test hook and for a handover that fails to parse.
        Assert.Equal(64, (await Evaluate(page, "async () => await window.signer.pendingEnrolmentKeyHexForTest()")).GetString()!.Length);
        string damaged = (await Evaluate(page, """
            async () => { try { await window.signer.acceptHandover('mpc-handover3:AAAA', { code: '0000-0000-0000-0000' }); return 'accepted'; } catch (e) { return e.message; } }
            """)).GetString()!;
        Assert.Contains("device handover is damaged", damaged, StringComparison.Ordinal);
        AllZeroed(await Evaluate(page, Copies), 5);

        // .NET to the worker: a refresh's pending share, its reply lost, so the pending record is left for the next worker.
        await Evaluate(page, "async () => await window.signer.loseNextReplyForTest()");
        string lost = (await Evaluate(page, "async keyId => { try { await window.signer.refresh(keyId); return 'refreshed'; } catch (e) { return e.message; } }", keyId)).GetString()!;
        Assert.Contains("reply was lost", lost, StringComparison.Ordinal);
        AllZeroed(await Evaluate(page, Copies), 6);

        // A new worker: the sealed device parameters, the lost refresh's pending share (settled: the server holds it)
        // and the stored share, each unsealed and taken in by .NET; then the key signs, so the bytes got across.
        await page.ReloadAsync();
        Assert.False((await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token })).GetProperty("created").GetBoolean());
        AllZeroed(await Evaluate(page, Copies), 1);
        Assert.Equal(keyId, Assert.Single((await Evaluate(page, "async () => await window.signer.openStoredKeys()")).EnumerateArray()).GetProperty("keyId").GetString());
        AllZeroed(await Evaluate(page, Copies), 3);
        AssertOpensslVerifies(pem, "signed after every crossing was wiped", await Sign(page, keyId, "signed after every crossing was wiped"));
    }
}
