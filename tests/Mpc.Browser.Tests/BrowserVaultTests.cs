using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Mpc.Browser.Tests.BrowserPage;

namespace Mpc.Browser.Tests;

/// <summary>The vault (mpc-vault.js) itself: the sealing key made by several first calls at once.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserVaultTests(BrowserApp app, ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task Records_sealed_at_once_by_the_first_calls_of_a_new_profile_all_open_under_the_one_stored_key()
    {
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        // Each seal finds no sealing key yet and makes one; one add wins, the others must use the stored key.
        JsonElement opened = await Evaluate(page, """
            async () => {
              const vault = await import('./mpc-vault.js');
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
