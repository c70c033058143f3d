using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Mpc.Browser.Tests.BrowserPage;

namespace Mpc.Browser.Tests;

/// <summary>The harness page and the mpc command line side by side, as one user of the test server.</summary>
internal static class BrowserBesideCli
{
    /// <summary>
    /// The server started for <paramref name="user"/>, the CLI with its environment (server, token, and
    /// <paramref name="passphrase"/> under <paramref name="passphraseVariable"/>), and the harness page connected as the
    /// same user with <c>Token</c> (its signer opened with <paramref name="signerPassphrase"/> when given); the caller disposes the CLI
    /// and the browser context.
    /// </summary>
    public static async Task<(MpcCli Cli, Dictionary<string, string> Environment, IBrowserContext Context, IPage Page, string Token)> StartAsync(
        BrowserApp app, ITestOutputHelper output, string user, string passphraseVariable, string passphrase, string? signerPassphrase = null)
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync(user);
        var environment = new Dictionary<string, string>
        {
            ["MPC_SERVER"] = app.Server.GrpcAddress.ToString(),
            ["MPC_TOKEN"] = token,
            [passphraseVariable] = passphrase,
        };
        var cli = new MpcCli();
        IBrowserContext context = await app.Browser.NewContextAsync();
        try
        {
            IPage page = await OpenHarness(context, app, output);
            await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token, signerPassphrase ?? "" });
            return (cli, environment, context, page, token);
        }
        catch
        {
            await context.DisposeAsync();
            cli.Dispose();
            throw;
        }
    }

    /// <summary>A P-256 key made in the browser: its id and public key PEM.</summary>
    public static async Task<(string KeyId, string PublicKeyPem)> CreateKeyInBrowserAsync(IPage page)
    {
        JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        return (key.GetProperty("keyId").GetString()!, key.GetProperty("publicKeyPem").GetString()!);
    }

    /// <summary>A P-256 key made by <c>mpc keygen</c> into <paramref name="keyFile"/>: its id and public key PEM.</summary>
    public static async Task<(string KeyId, string PublicKeyPem)> CreateKeyWithCliAsync(MpcCli cli, IReadOnlyDictionary<string, string> environment, string keyFile)
    {
        string[] made = (await cli.RunAsync(environment, "keygen", "--out", keyFile)).Split('\n', 2);
        return (made[0]["Key id: ".Length..].Trim(), made[1]);
    }

    /// <summary>x2 of the browser's open share of <paramref name="keyId"/>, in hexadecimal (test builds only).</summary>
    public static async Task<string> ShareScalarHexAsync(IPage page, string keyId) =>
        (await Evaluate(page, "async keyId => await window.signer.shareScalarHexForTest(keyId)", keyId)).GetString()!;
}
