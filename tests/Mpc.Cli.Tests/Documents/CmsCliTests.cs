using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Testing.Server;

namespace Mpc.Cli.Tests.Documents;

/// <summary>The real `mpc` program: `mpc cert`, `mpc sign --format cms`, `mpc verify --format cms` against the test server.</summary>
[Collection("server")]
public sealed class CmsCliTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _root = new("mpc-cms-cli-");

    [Fact]
    public async Task Cert_sign_and_verify_as_cms_through_the_cli()
    {
        const string user = "cms-cli";
        string token = server.Token(user);
        string keyFile = _root.File("alice.key");
        string keyId;
        using (MpcSignerClient client = server.Client(user))
        using (MpcKey key = await client.CreateKeyAsync(CurveKind.P256))
        {
            ClientKeyFile.Save(keyFile, key.Share, user, KeyFileProtection.Unprotected());
            keyId = key.KeyId;
        }
        string document = _root.File("contract.txt");
        File.WriteAllText(document, "I, Alice, agree.\n");
        string signature = _root.File("contract.p7s");
        string certificateFile = _root.File("alice.pem");
        string tokenFile = _root.File("token");
        File.WriteAllText(tokenFile, token);
        string[] connection = ["--server", server.Address.ToString(), "--token-file", tokenFile, "--key", keyFile, "--unprotected"];

        ProcessResult noCertificate = Cli(["sign", .. connection, "--format", "cms", "--in", document, "--out", signature]);
        Assert.Equal((2, $"error: Key {keyId} has no certificate: run mpc cert or import a PKCS#12 with one, or pass --cert."),
            (noCertificate.ExitCode, noCertificate.Stderr.Trim()));
        Assert.False(File.Exists(signature));

        ProcessResult cert = Cli(["cert", .. connection, "--subject", "CN=Alice,O=Example", "--days", "30", "--out", certificateFile]);
        Assert.True(cert.ExitCode == 0, cert.Stderr);
        Assert.Contains("Subject: CN=Alice, O=Example", cert.Stdout, StringComparison.Ordinal);
        using X509Certificate2 certificate = X509Certificate2.CreateFromPem(File.ReadAllText(certificateFile));
        Assert.InRange((certificate.NotAfter - DateTime.Now).TotalDays, 29.9, 30.1);
        using (MpcSignerClient client = server.Client(user))
        {
            Assert.Equal(certificate.RawData, Assert.Single((await client.GetKeyAsync(keyId)).CertificateChain).RawData);
        }

        ProcessResult sign = Cli(["sign", .. connection, "--format", "cms", "--in", document, "--out", signature]);
        Assert.True(sign.ExitCode == 0, sign.Stderr);
        ProcessResult openssl = ProcessRunner.OpenSsl("cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-content", document, "-CAfile", certificateFile, "-out", "/dev/null");
        Assert.True(openssl.ExitCode == 0, openssl.Stderr);

        ProcessResult verified = Cli("verify", "--format", "cms", "--in", document, "--signature", signature, "--ca", certificateFile);
        Assert.Equal(0, verified.ExitCode);
        Assert.StartsWith("Verified OK: signed by CN=Alice, O=Example", verified.Stdout.Trim(), StringComparison.Ordinal);

        ProcessResult noAnchor = Cli("verify", "--format", "cms", "--in", document, "--signature", signature);
        Assert.Equal((2, "error: pass --ca CERT to check who signed, or --untrusted to check only that the document is intact"), (noAnchor.ExitCode, noAnchor.Stderr.Trim()));
        ProcessResult intact = Cli("verify", "--format", "cms", "--in", document, "--signature", signature, "--untrusted");
        Assert.Equal(0, intact.ExitCode);
        Assert.StartsWith("Signature intact; signer NOT verified", intact.Stdout.Trim(), StringComparison.Ordinal);

        // Another certificate as the trust anchor, and another key's certificate as the signer: refused.
        string otherFile = _root.File("other.pem");
        using (var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        using (X509Certificate2 other = new CertificateRequest("CN=Alice,O=Example", otherKey, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1)))
        {
            File.WriteAllText(otherFile, other.ExportCertificatePem());
        }
        ProcessResult wrongAnchor = Cli("verify", "--format", "cms", "--in", document, "--signature", signature, "--ca", otherFile);
        Assert.Equal(3, wrongAnchor.ExitCode);
        Assert.StartsWith($"Verification failure: The signature's certificate (CN=Alice, O=Example) is not trusted by {otherFile}", wrongAnchor.Stdout.Trim(), StringComparison.Ordinal);
        string other2 = _root.File("other.p7s");
        ProcessResult wrongCertificate = Cli(["sign", .. connection, "--format", "cms", "--cert", otherFile, "--in", document, "--out", other2]);
        Assert.Equal((6, "error: The certificate CN=Alice, O=Example is not for this key: its public key differs."), (wrongCertificate.ExitCode, wrongCertificate.Stderr.Trim()));

        File.AppendAllText(document, "!");
        ProcessResult tampered = Cli("verify", "--format", "cms", "--in", document, "--signature", signature, "--ca", certificateFile);
        Assert.Equal((3, "Verification failure: The document does not match the signature."), (tampered.ExitCode, tampered.Stdout.Trim()));

        // --cert with the stored certificate works as well, and the raw format still round-trips.
        ProcessResult explicitCert = Cli(["sign", .. connection, "--format", "cms", "--cert", certificateFile, "--in", document, "--out", signature]);
        Assert.True(explicitCert.ExitCode == 0, explicitCert.Stderr);
        Assert.Equal(0, Cli("verify", "--format", "cms", "--in", document, "--sig", signature, "--ca", certificateFile).ExitCode);
        string raw = _root.File("contract.raw");
        string publicKey = _root.File("alice.pub.pem");
        File.WriteAllText(publicKey, Cli("pubkey", "--key", keyFile, "--unprotected").Stdout);
        Assert.Equal(0, Cli(["sign", .. connection, "--format", "raw", "--in", document, "--out", raw]).ExitCode);
        Assert.Equal(64, new FileInfo(raw).Length);
        Assert.Equal((0, "Verified OK"), ResultOf(Cli("verify", "--format", "raw", "--pub", publicKey, "--in", document, "--sig", raw)));
    }

    [Fact]
    public async Task Sign_with_a_time_stamping_authority_and_verify_against_its_ca_through_the_cli()
    {
        const string user = "cms-cli-tsa";
        string keyFile = _root.File("tsa.key");
        string certificateFile = _root.File("signer.pem");
        using (MpcSignerClient client = server.Client(user))
        using (MpcKey key = await client.CreateKeyAsync(CurveKind.P256))
        {
            ClientKeyFile.Save(keyFile, key.Share, user, KeyFileProtection.Unprotected());
            using X509Certificate2 certificate = await client.CreateSelfSignedCertificateAsync(
                key, new X500DistinguishedName("CN=Ivan"), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        }
        await using TestTimestampAuthority tsa = await TestTimestampAuthority.StartAsync();
        string tsaCaFile = _root.File("tsa-ca.pem");
        File.WriteAllText(tsaCaFile, tsa.Ca.ExportCertificatePem());
        string tokenFile = _root.File("token");
        File.WriteAllText(tokenFile, server.Token(user));
        string document = _root.File("filing.txt");
        File.WriteAllText(document, "Annual filing, 2026.\n");
        string signature = _root.File("filing.p7s"), plain = _root.File("filing-bes.p7s");
        string[] sign = ["sign", "--server", server.Address.ToString(), "--token-file", tokenFile, "--key", keyFile, "--unprotected", "--format", "cms", "--in", document];

        ProcessResult signed = Cli([.. sign, "--tsa", tsa.Url.ToString(), "--tsa-ca", tsaCaFile, "--out", signature]);
        Assert.True(signed.ExitCode == 0, signed.Stderr);
        Assert.Matches($@"CMS \(CAdES-B-T, detached, time-stamped \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ by CN=Test TSA, trusted through {Regex.Escape(tsaCaFile)}\) written to ", signed.Stderr);
        Assert.Equal(1, tsa.Requests);

        ProcessResult verified = Cli("verify", "--format", "cms", "--in", document, "--signature", signature, "--ca", certificateFile, "--tsa-ca", tsaCaFile);
        Assert.True(verified.ExitCode == 0, verified.Stdout + verified.Stderr);
        Assert.Matches($@"^Verified OK: signed by CN=Ivan, trusted through {Regex.Escape(certificateFile)}; time-stamped [-0-9]+ [:0-9]+Z by CN=Test TSA, trusted through {Regex.Escape(tsaCaFile)}; signing time ", verified.Stdout);
        ProcessResult unanchored = Cli("verify", "--format", "cms", "--in", document, "--signature", signature, "--untrusted");
        Assert.Equal(0, unanchored.ExitCode);
        Assert.Contains("by CN=Test TSA (its authority NOT checked against any trust anchor: pass --tsa-ca)", unanchored.Stdout, StringComparison.Ordinal);

        // --tsa-ca asks for a time-stamp from that authority: none, or one from another, does not verify.
        Assert.Equal(0, Cli([.. sign, "--out", plain]).ExitCode);
        ProcessResult none = Cli("verify", "--format", "cms", "--in", document, "--signature", plain, "--ca", certificateFile, "--tsa-ca", tsaCaFile);
        Assert.Equal((3, $"Verification failure: The signature has no time-stamp, and --tsa-ca {tsaCaFile} was given."), ResultOf(none));
        // mpc timestamp adds one to an existing signature, with no key or server; only to one that verifies.
        string later = _root.File("filing-later.p7s");
        ProcessResult wrongDocument = Cli("timestamp", "--in", certificateFile, "--sig", plain, "--tsa", tsa.Url.ToString(), "--out", later);
        Assert.Equal((3, "error: The document does not match the signature: nothing was time-stamped"), (wrongDocument.ExitCode, wrongDocument.Stderr.Trim()));
        Assert.Equal(1, tsa.Requests);
        ProcessResult stampedLater = Cli("timestamp", "--in", document, "--sig", plain, "--tsa", tsa.Url.ToString(), "--out", later);
        Assert.True(stampedLater.ExitCode == 0, stampedLater.Stderr);
        Assert.Matches($@"^Time-stamped [-0-9]+ [:0-9]+Z by CN=Test TSA \(its authority NOT checked against any trust anchor: pass --tsa-ca\); CMS \(CAdES-B-T, detached\) written to {Regex.Escape(later)}\.$", stampedLater.Stderr.Trim());
        Assert.Equal(0, Cli("verify", "--format", "cms", "--in", document, "--signature", later, "--ca", certificateFile, "--tsa-ca", tsaCaFile).ExitCode);
        ProcessResult otherAuthority = Cli("verify", "--format", "cms", "--in", document, "--signature", signature, "--untrusted", "--tsa-ca", certificateFile);
        Assert.Equal(3, otherAuthority.ExitCode);
        Assert.StartsWith($"Verification failure: The time-stamp's authority (CN=Test TSA) is not trusted by {certificateFile}", otherAuthority.Stdout, StringComparison.Ordinal);

        // An authority that refuses, one that --tsa-ca does not trust, or none listening: one line, its exit code, and no signature file.
        string refusedFile = _root.File("refused.p7s");
        ProcessResult distrusted = Cli([.. sign, "--tsa", tsa.Url.ToString(), "--tsa-ca", certificateFile, "--out", refusedFile]);
        Assert.Equal(1, distrusted.ExitCode);
        Assert.StartsWith($"error: The time-stamping authority {tsa.Url} answered with a time-stamp that is refused: The time-stamp's authority (CN=Test TSA) is not trusted by {certificateFile}",
            distrusted.Stderr.Trim(), StringComparison.Ordinal);
        tsa.Mode = TestTimestampAuthority.Answer.Reject;
        ProcessResult refused = Cli([.. sign, "--tsa", tsa.Url.ToString(), "--out", refusedFile]);
        Assert.Equal((1, $"error: The time-stamping authority {tsa.Url}: it refused the request: status 2 (rejection), badAlg: \"this authority does not take that digest\"."),
            (refused.ExitCode, refused.Stderr.Trim()));
        ProcessResult unreachable = Cli([.. sign, "--tsa", "http://127.0.0.1:9/", "--out", refusedFile]);
        Assert.Equal(5, unreachable.ExitCode);
        Assert.StartsWith("error: The time-stamping authority http://127.0.0.1:9/ could not be reached", unreachable.Stderr.Trim(), StringComparison.Ordinal);
        Assert.False(File.Exists(refusedFile));

        ProcessResult notUrl = Cli([.. sign, "--tsa", "tsa.example", "--out", refusedFile]);
        Assert.Equal((2, "error: --tsa \"tsa.example\" is not an http:// or https:// URL of a time-stamping authority"), (notUrl.ExitCode, notUrl.Stderr.Trim()));
        ProcessResult derWithTsa = Cli("sign", "--key", keyFile, "--unprotected", "--format", "der", "--tsa", tsa.Url.ToString(), "--in", document, "--out", refusedFile);
        Assert.Equal((2, "error: --tsa applies only to --format cms"), (derWithTsa.ExitCode, derWithTsa.Stderr.Trim()));
        ProcessResult caWithoutTsa = Cli([.. sign, "--tsa-ca", tsaCaFile, "--out", refusedFile]);
        Assert.Equal((2, "error: --tsa-ca applies only with --tsa"), (caWithoutTsa.ExitCode, caWithoutTsa.Stderr.Trim()));
        ProcessResult derWithTsaCa = Cli("verify", "--format", "der", "--pub", certificateFile, "--tsa-ca", tsaCaFile, "--in", document, "--sig", signature);
        Assert.Equal((2, "error: --ca, --untrusted and --tsa-ca apply only to --format cms"), (derWithTsaCa.ExitCode, derWithTsaCa.Stderr.Trim()));
        Assert.False(File.Exists(refusedFile));
    }

    [Theory]
    [InlineData(CurveKind.P256, "ES256")]
    [InlineData(CurveKind.Secp256k1, "ES256K")]
    public async Task Sign_and_verify_as_jws_through_the_cli(CurveKind curve, string algorithm)
    {
        string user = "jws-cli-" + algorithm;
        string keyFile = _root.File(algorithm + ".key"), publicKey = _root.File(algorithm + ".pub.pem");
        using (MpcSignerClient client = server.Client(user))
        using (MpcKey key = await client.CreateKeyAsync(curve))
        {
            ClientKeyFile.Save(keyFile, key.Share, user, KeyFileProtection.Unprotected());
        }
        File.WriteAllText(publicKey, Cli("pubkey", "--key", keyFile, "--unprotected").Stdout);
        string tokenFile = _root.File(algorithm + ".token");
        File.WriteAllText(tokenFile, server.Token(user));
        string document = _root.File(algorithm + ".json"), jws = _root.File(algorithm + ".jws");
        File.WriteAllText(document, """{"filing":"2026-annual"}""");

        ProcessResult signed = Cli("sign", "--server", server.Address.ToString(), "--token-file", tokenFile, "--key", keyFile, "--unprotected",
            "--format", "jws", "--in", document, "--out", jws);
        Assert.True(signed.ExitCode == 0, signed.Stderr);
        Assert.Contains($"JWS ({algorithm}, compact) written to {jws}", signed.Stderr, StringComparison.Ordinal);
        Assert.Matches("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$", File.ReadAllText(jws));

        Assert.Equal((0, $$"""Verified OK: {{algorithm}}, payload embedded, header {"alg":"{{algorithm}}"}"""),
            ResultOf(Cli("verify", "--format", "jws", "--pub", publicKey, "--in", document, "--sig", jws)));
        File.AppendAllText(document, " ");
        Assert.Equal((3, "Verification failure: The JWS does not verify: its payload is not the document."),
            ResultOf(Cli("verify", "--format", "jws", "--pub", publicKey, "--in", document, "--sig", jws)));
    }

    [Fact]
    public async Task Control_characters_in_a_certificate_subject_reach_the_terminal_as_question_marks()
    {
        // A .p7s anyone can make and send: a certificate for the key's public key from any issuer, whose subject
        // tries to move the cursor back over the line and print a verdict of its own, then reverse what follows.
        const string user = "cms-cli-escapes";
        string keyFile = _root.File("mallory.key");
        byte[] subjectPublicKeyInfo;
        using (MpcSignerClient client = server.Client(user))
        using (MpcKey key = await client.CreateKeyAsync(CurveKind.P256))
        {
            ClientKeyFile.Save(keyFile, key.Share, user, KeyFileProtection.Unprotected());
            subjectPublicKeyInfo = key.SubjectPublicKeyInfo;
        }
        var name = new X500DistinguishedNameBuilder();
        name.AddCommonName("Mallory\u001b[2K\rVerified OK: signed by CN=Bank\u202egnp.");
        string certificateFile = _root.File("mallory.pem");
        using (var issuer = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        using (X509Certificate2 certificate = new CertificateRequest(name.Build(), PublicKey.CreateFromSubjectPublicKeyInfo(subjectPublicKeyInfo, out _), HashAlgorithmName.SHA256)
            .Create(new X500DistinguishedName("CN=Issuer"), X509SignatureGenerator.CreateForECDsa(issuer), DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8)))
        {
            File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        }
        string document = _root.File("note.txt");
        File.WriteAllText(document, "pay Mallory\n");
        string signature = _root.File("note.p7s");
        string tokenFile = _root.File("token");
        File.WriteAllText(tokenFile, server.Token(user));

        ProcessResult signed = Cli("sign", "--server", server.Address.ToString(), "--token-file", tokenFile, "--key", keyFile, "--unprotected",
            "--format", "cms", "--cert", certificateFile, "--in", document, "--out", signature);
        ProcessResult verified = Cli("verify", "--format", "cms", "--in", document, "--signature", signature, "--untrusted");

        Assert.True(signed.ExitCode == 0, signed.Stderr);
        Assert.Equal(0, verified.ExitCode);
        const string shown = "Mallory?[2K?Verified OK: signed by CN=Bank?gnp.";
        Assert.Contains(shown, signed.Stderr, StringComparison.Ordinal);
        Assert.StartsWith("Signature intact; signer NOT verified: the certificate ", verified.Stdout, StringComparison.Ordinal);
        Assert.Contains(shown, verified.Stdout, StringComparison.Ordinal);
        foreach (string printed in new[] { signed.Stdout, signed.Stderr, verified.Stdout, verified.Stderr })
        {
            Assert.DoesNotContain(printed, c => c is '\u001b' or '\r' or '\u202e');
        }
    }

    private static (int, string) ResultOf(ProcessResult result) => (result.ExitCode, result.Stdout.Trim());

    private static ProcessResult Cli(params string[] args) => ProcessRunner.Mpc(null, args);

    public void Dispose()
    {
        _root.Dispose();
    }
}
