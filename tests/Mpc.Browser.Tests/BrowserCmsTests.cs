using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Mpc.Browser.Tests.BrowserPage;

namespace Mpc.Browser.Tests;

/// <summary>
/// sign(bytes, { format: 'cms' }): a detached CMS SignedData made in the browser, for a certificate a CA issued to the
/// browser's key, checked with <c>openssl cms -verify</c> against that CA; and { format: 'jws' }, a compact JWS.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserCmsTests(BrowserApp app, ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task A_document_signed_as_CMS_in_the_browser_verifies_with_openssl_cms_and_a_certificate_for_another_key_is_refused()
    {
        await app.Server.StartAsync(app.Origin);
        string token = await app.Server.TokenAsync("browser-cms-user");
        await using IBrowserContext context = await app.Browser.NewContextAsync();
        IPage page = await OpenHarness(context, app, output);
        await Evaluate(page, OpenSigner, new[] { app.Server.WebAddress.ToString(), token });
        JsonElement key = await Evaluate(page, "async () => await window.signer.createKey({ curve: 'p256' })");
        string keyId = key.GetProperty("keyId").GetString()!;
        string pem = key.GetProperty("publicKeyPem").GetString()!;

        using ECDsa caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Browser test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddDays(2));
        using X509Certificate2 leaf = Issue(ca, pem, "CN=Browser signer");

        const string document = "Diploma no. 12: signed in the browser as CMS.";
        string cms = (await Evaluate(page, """
            async ([keyId, text, leaf]) => window.toBase64(await window.signer.sign(keyId, text, { format: 'cms', certificates: [leaf] }))
            """, new[] { keyId, document, leaf.ExportCertificatePem() })).GetString()!;
        AssertOpensslCmsVerifies(ca, document, Convert.FromBase64String(cms));

        using ECDsa other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 wrong = Issue(ca, other.ExportSubjectPublicKeyInfoPem(), "CN=Someone else");
        string error = (await Evaluate(page, """
            async ([keyId, leaf]) => { try { await window.signer.sign(keyId, 'x', { format: 'cms', certificates: [leaf] }); return 'signed'; } catch (e) { return e.message; } }
            """, new[] { keyId, wrong.ExportCertificatePem() })).GetString()!;
        Assert.Contains("is not for this key", error, StringComparison.Ordinal);

        // The same key signs a JSON payload as a compact JWS, checked here by the SDK's verifier against its public key.
        const string claims = "{\"filing\":\"diploma-12\"}";
        string jws = (await Evaluate(page, "async ([keyId, text]) => await window.signer.sign(keyId, text, { format: 'jws' })", new[] { keyId, claims })).GetString()!;
        using ECDsa browserKey = ECDsa.Create();
        browserKey.ImportFromPem(pem);
        Mpc.Client.Documents.JwsVerification verified = Mpc.Client.Documents.JwsSignature.Verify(jws, browserKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(("ES256", claims), (verified.Algorithm, System.Text.Encoding.UTF8.GetString(verified.Payload)));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string publicKeyPem, string subject)
    {
        using ECDsa publicKey = ECDsa.Create();
        publicKey.ImportFromPem(publicKeyPem);
        var request = new CertificateRequest(subject, publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation, true));
        // ca came from CreateSelfSigned, so it carries caKey already.
        return request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(12));
    }

    /// <summary>`openssl cms -verify -binary -inform DER -in sig.p7s -content doc.txt -CAfile ca.pem -purpose any` succeeds.</summary>
    private static void AssertOpensslCmsVerifies(X509Certificate2 ca, string document, byte[] cms)
    {
        string directory = Directory.CreateTempSubdirectory("mpc-browser-cms-").FullName;
        try
        {
            string caFile = Path.Combine(directory, "ca.pem"), signature = Path.Combine(directory, "sig.p7s"), text = Path.Combine(directory, "doc.txt");
            File.WriteAllText(caFile, ca.ExportCertificatePem());
            File.WriteAllBytes(signature, cms);
            File.WriteAllText(text, document);
            using Process openssl = Process.Start(new ProcessStartInfo("openssl",
                ["cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-content", text, "-CAfile", caFile, "-purpose", "any", "-out", "/dev/null"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            string said = openssl.StandardOutput.ReadToEnd() + openssl.StandardError.ReadToEnd();
            openssl.WaitForExit();
            Assert.True(openssl.ExitCode == 0 && said.Contains("Verification successful", StringComparison.Ordinal), $"openssl cms: {said}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
