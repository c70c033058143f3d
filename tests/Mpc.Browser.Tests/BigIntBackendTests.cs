using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Mpc.Browser.Tests;

/// <summary>
/// The JS BigInt backend in a real browser: it agrees with BouncyCastle on random operands, and the medians it prints
/// are the "Browser" figures of docs/benchmarks.md.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BigIntBackendTests(BrowserApp app, ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task JS_BigInt_modPow_agrees_with_BouncyCastle_in_wasm_and_the_medians_are_printed()
    {
        IPage page = await app.Browser.NewPageAsync();
        await page.GotoAsync(new Uri(app.Address, "index.html?runs=9").ToString());
        await page.WaitForFunctionAsync("() => window.mpcBenchmark !== undefined", null, new PageWaitForFunctionOptions { Timeout = 300_000 });
        string json = await page.EvaluateAsync<string>("() => JSON.stringify(window.mpcBenchmark)");
        output.WriteLine(json);
        Console.WriteLine("browser benchmark (headless chromium, medians in ms): " + json);

        using JsonDocument result = JsonDocument.Parse(json);
        Assert.False(result.RootElement.TryGetProperty("error", out JsonElement error), error.ToString());
        foreach (string size in new[] { "modPow4096x2048", "modPow4096x256" })
        {
            JsonElement figures = result.RootElement.GetProperty(size);
            Assert.True(figures.GetProperty("agree").GetBoolean(), $"{size}: JS BigInt and BouncyCastle disagree");
            Assert.True(figures.GetProperty("jsBigIntMs").GetDouble() > 0);
            Assert.True(figures.GetProperty("bouncyCastleMs").GetDouble() > 0);
        }
    }
}
