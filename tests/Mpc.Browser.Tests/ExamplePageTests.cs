using System.Diagnostics;
using System.Text;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Mpc.Browser.Tests;

/// <summary>
/// The "issue a document" page served by mpc-server itself (Mpc__Web__ServeExample=true): same origin as gRPC-Web,
/// the page makes a key, signs the typed text, and shows a signature that openssl verifies.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ExamplePageTests(BrowserApp app, ITestOutputHelper output)
{
    private SigningServer Server => app.ExampleServer;

    [ChromiumFact]
    public async Task The_server_serves_the_example_page_which_signs_typed_text_with_a_signature_openssl_verifies()
    {
        await Server.StartAsync(origin: null, exampleDirectory: app.SiteDirectory);
        string token = await Server.TokenAsync("example-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await context.NewPageAsync();
        page.SetDefaultTimeout(300_000);
        page.Console += (_, message) => output.WriteLine($"console.{message.Type}: {message.Text}");

        // "/" is the example page, from the server's web port: the page's origin is the one allowed.
        IResponse? served = await page.GotoAsync(new Uri(Server.WebAddress, "/#token=" + Uri.EscapeDataString(token)).ToString());
        // The page runs under its Content-Security-Policy (the rest of this test is what that policy must allow).
        Dictionary<string, string> headers = (await served!.AllHeadersAsync()).ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase);
        Assert.Equal("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            headers["content-security-policy"]);
        Assert.Equal(("nosniff", "no-referrer", "DENY"), (headers["x-content-type-options"], headers["referrer-policy"], headers["x-frame-options"]));
        await page.WaitForFunctionAsync("() => window.mpcExample !== undefined");
        Assert.Null(await page.EvaluateAsync<string?>("() => window.mpcExample.error ?? null"));
        // The token left the address bar and the history entry as soon as the page read it.
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);

        const string text = "Diploma no. 7, issued in the browser.";
        await page.FillAsync("#document", text);
        await page.ClickAsync("#sign");
        await page.WaitForFunctionAsync("() => document.getElementById('signature').textContent.length > 0");
        string pem = await page.TextContentAsync("#public-key") ?? "";
        byte[] der = Convert.FromBase64String(await page.TextContentAsync("#signature") ?? "");
        Assert.Contains("openssl dgst -sha256 -verify public.pem -signature signature.der document.txt", await page.TextContentAsync("#check"), StringComparison.Ordinal);

        string directory = Directory.CreateTempSubdirectory("mpc-example-openssl-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "public.pem"), pem);
            File.WriteAllBytes(Path.Combine(directory, "signature.der"), der);
            File.WriteAllBytes(Path.Combine(directory, "document.txt"), Encoding.UTF8.GetBytes(text));
            using Process openssl = Process.Start(new ProcessStartInfo("openssl", ["dgst", "-sha256", "-verify", "public.pem", "-signature", "signature.der", "document.txt"])
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            string said = openssl.StandardOutput.ReadToEnd() + openssl.StandardError.ReadToEnd();
            openssl.WaitForExit();
            Assert.True(openssl.ExitCode == 0 && said.Contains("Verified OK", StringComparison.Ordinal), $"openssl: {said}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [ChromiumFact]
    public async Task A_page_from_another_origin_cannot_make_a_key_on_that_server()
    {
        await Server.StartAsync(origin: null, exampleDirectory: app.SiteDirectory); // allows only its own web origin
        string token = await Server.TokenAsync("other-origin-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await context.NewPageAsync();
        page.SetDefaultTimeout(300_000);
        await page.GotoAsync(new Uri(app.Address, "harness.html").ToString()); // the test site's origin, not the server's

        string outcome = await page.EvaluateAsync<string>("""
            async ([server, token]) => {
              const { MpcSigner } = await import('./mpc-signer.js');
              const signer = await MpcSigner.open({ server, token });
              try { await signer.createKey({ curve: 'p256' }); return 'created'; } catch (e) { return 'refused: ' + e.message; }
            }
            """, new[] { Server.WebAddress.ToString(), token });

        output.WriteLine(outcome);
        Assert.StartsWith("refused: ", outcome, StringComparison.Ordinal);
        Assert.DoesNotContain("created", outcome, StringComparison.Ordinal);
    }
}
