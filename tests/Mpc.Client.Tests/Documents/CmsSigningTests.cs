using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Mpc.Client;
using Mpc.Client.Documents;
using Mpc.Crypto.Curves;

namespace Mpc.Client.Tests.Documents;

/// <summary>
/// CAdES-BES signatures made through <see cref="MpcECDsa"/> with a certificate made by the SDK's self-signed path,
/// checked by the real `openssl cms` and by <see cref="CadesSignature.Verify"/>; and the key record's certificate chain.
/// </summary>
[Collection("server")]
public sealed class CmsSigningTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _root = new("mpc-cms-");

    [Theory]
    [InlineData(CurveKind.P256, "sha256")]
    [InlineData(CurveKind.P384, "sha384")]
    [InlineData(CurveKind.Secp256k1, "sha256")]
    public async Task Cms_made_through_MpcECDsa_verifies_with_openssl_and_the_sdk(CurveKind curve, string digest)
    {
        using MpcSignerClient client = server.Client("cms-" + curve);
        using MpcKey key = await client.CreateKeyAsync(curve);
        using X509Certificate2 certificate = await client.CreateSelfSignedCertificateAsync(
            key, new X500DistinguishedName("CN=Alice Example, O=Example"), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        byte[] document = "I, Alice, agree to the terms.\n"u8.ToArray();

        byte[] cms = await client.SignCmsAsync(key, document);

        (string documentFile, string signatureFile, string certificateFile) = Write(document, cms, certificate);
        ProcessResult verified = ProcessRunner.OpenSsl("cms", "-verify", "-binary", "-inform", "DER", "-in", signatureFile, "-content", documentFile, "-CAfile", certificateFile, "-out", "/dev/null");
        Assert.True(verified.ExitCode == 0, verified.Stderr);
        Assert.Contains("Verification successful", verified.Stderr, StringComparison.Ordinal);

        ProcessResult printed = ProcessRunner.OpenSsl("cms", "-cmsout", "-print", "-inform", "DER", "-in", signatureFile);
        Assert.Equal(0, printed.ExitCode);
        Assert.Contains("id-smime-aa-signingCertificateV2", printed.Stdout, StringComparison.Ordinal);
        Assert.Contains("signingTime", printed.Stdout, StringComparison.Ordinal);
        Assert.Contains($"algorithm: {digest}", printed.Stdout, StringComparison.Ordinal);

        CadesVerification result = CadesSignature.Verify(document, cms, [certificate]);
        Assert.True(result.ChainValidated);
        Assert.Equal(certificate.Thumbprint, result.SignerCertificate.Thumbprint);
        Assert.Equal(digest.ToUpperInvariant(), result.DigestAlgorithm.Name);
        Assert.NotNull(result.SigningTime);

        // The attribute names this certificate: its SHA-256 hash and issuer/serial, read back from the CMS.
        var signed = new SignedCms(new ContentInfo(document), detached: true);
        signed.Decode(cms);
        CryptographicAttributeObject attribute = signed.SignerInfos[0].SignedAttributes.Cast<CryptographicAttributeObject>()
            .Single(a => a.Oid.Value == "1.2.840.113549.1.9.16.2.47");
        var reader = new System.Formats.Asn1.AsnReader(attribute.Values[0].RawData, System.Formats.Asn1.AsnEncodingRules.DER);
        System.Formats.Asn1.AsnReader essCertId = reader.ReadSequence().ReadSequence().ReadSequence();
        Assert.Equal(SHA256.HashData(certificate.RawData), essCertId.ReadOctetString());
        System.Formats.Asn1.AsnReader issuerSerial = essCertId.ReadSequence();
        issuerSerial.ReadSequence();
        Assert.Equal(certificate.SerialNumberBytes.ToArray(), issuerSerial.ReadIntegerBytes().ToArray());
    }

    [Fact]
    public async Task A_one_byte_change_in_the_document_fails_openssl_and_the_sdk()
    {
        using MpcSignerClient client = server.Client("cms-tamper");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        using X509Certificate2 certificate = await client.CreateSelfSignedCertificateAsync(
            key, new X500DistinguishedName("CN=Bob"), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        byte[] document = RandomNumberGenerator.GetBytes(1000);
        byte[] cms = await client.SignCmsAsync(key, document);
        Assert.NotNull(CadesSignature.Verify(document, cms, [certificate]));

        document[500] ^= 0x01;
        (string documentFile, string signatureFile, string certificateFile) = Write(document, cms, certificate);
        ProcessResult openssl = ProcessRunner.OpenSsl("cms", "-verify", "-binary", "-inform", "DER", "-in", signatureFile, "-content", documentFile, "-CAfile", certificateFile, "-out", "/dev/null");
        Assert.NotEqual(0, openssl.ExitCode);
        Assert.Contains("content verify error", openssl.Stderr, StringComparison.Ordinal);
        var refused = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, cms, [certificate]));
        Assert.Equal("The document does not match the signature.", refused.Message);
        refused = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, cms));
        Assert.Equal("The document does not match the signature.", refused.Message);
    }

    [Fact]
    public async Task Verification_against_another_trust_anchor_fails_and_without_anchors_says_the_chain_was_not_validated()
    {
        using MpcSignerClient client = server.Client("cms-anchor");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        using X509Certificate2 certificate = await client.CreateSelfSignedCertificateAsync(
            key, new X500DistinguishedName("CN=Carol"), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        byte[] document = "contract"u8.ToArray();
        byte[] cms = await client.SignCmsAsync(key, document);

        using X509Certificate2 stranger = SoftwareCertificate("CN=Stranger", out _);
        var untrusted = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, cms, [stranger]));
        Assert.StartsWith("The signature's certificate (CN=Carol) is not trusted by the given trust anchors", untrusted.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', untrusted.Message);

        CadesVerification unanchored = CadesSignature.Verify(document, cms);
        Assert.False(unanchored.ChainValidated);
        Assert.Empty(unanchored.ValidatedChain);
        Assert.Equal("CN=Carol", unanchored.SignerCertificate.Subject);

        // An expired certificate is not trusted either.
        var later = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, cms, [certificate], DateTimeOffset.UtcNow.AddDays(2)));
        Assert.Contains("not trusted", later.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_cms_without_signing_certificate_v2_is_not_accepted_as_cades()
    {
        using X509Certificate2 certificate = SoftwareCertificate("CN=Plain", out ECDsa key);
        using (key)
        {
            byte[] document = "plain"u8.ToArray();
            var cms = new SignedCms(new ContentInfo(document), detached: true);
            cms.ComputeSignature(new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, certificate, key), silent: true);
            var refused = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, cms.Encode(), [certificate]));
            Assert.Equal("The signature has no signed attributes, so it is not CAdES-BES.", refused.Message);

            var withTime = new SignedCms(new ContentInfo(document), detached: true);
            var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, certificate, key);
            signer.SignedAttributes.Add(new Pkcs9SigningTime(DateTime.UtcNow));
            withTime.ComputeSignature(signer, silent: true);
            refused = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, withTime.Encode(), [certificate]));
            Assert.Equal("The signature has no signing-certificate-v2 attribute, so it is not CAdES-BES.", refused.Message);

            // The same key, signing-certificate-v2 naming a different certificate for it: refused.
            using X509Certificate2 other = SoftwareCertificate("CN=Other", key);
            byte[] swapped = CadesSignature.Sign(document, key, [other]);
            Assert.NotNull(CadesSignature.Verify(document, swapped, [other]));
            Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, RewriteSigningCertificate(document, key, certificate, other), [certificate]));
        }
    }

    [Fact]
    public void A_cms_whose_included_certificate_does_not_decode_is_refused_as_a_bad_signature()
    {
        // SignedCms decodes its certificates only when they are read: a CryptographicException escaped from there.
        using X509Certificate2 certificate = SoftwareCertificate("CN=Broken", out ECDsa key);
        using (key)
        {
            byte[] document = "broken certificate"u8.ToArray();
            byte[] cms = CadesSignature.Sign(document, key, [certificate]);
            int at = cms.AsSpan().IndexOf(certificate.RawData);
            Assert.True(at > 0);
            byte[] broken = (byte[])cms.Clone();
            broken[at + 4] = 0x31; // the TBSCertificate's SEQUENCE tag, now a SET: the CMS still decodes, the certificate does not
            var refused = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, broken, [certificate]));
            Assert.Equal(MpcErrorReason.DocumentSignature, refused.Reason);
            Assert.Equal("The signature is not a DER CMS SignedData.", refused.Message);
        }
    }

    [Fact]
    public void A_certificate_outside_its_validity_at_the_signing_time_is_refused_before_anything_is_signed()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Carol", key, HashAlgorithmName.SHA256);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 expired = request.CreateSelfSigned(now.AddDays(-30), now.AddDays(-1));
        using X509Certificate2 future = request.CreateSelfSigned(now.AddDays(1), now.AddDays(30));
        // After 2049 X.509 writes GeneralizedTime: read as well as UTCTime.
        using X509Certificate2 longLived = request.CreateSelfSigned(now.AddDays(-1), new DateTimeOffset(2060, 1, 1, 0, 0, 0, TimeSpan.Zero));
        byte[] document = "terms"u8.ToArray();

        var late = Assert.Throws<MpcSignerException>(() => CadesSignature.Sign(document, key, [expired]));
        Assert.Equal(MpcErrorReason.DocumentSignature, late.Reason);
        Assert.StartsWith($"The certificate CN=Carol expired at {expired.NotAfter.ToUniversalTime():u}; a signature made at ", late.Message, StringComparison.Ordinal);
        var early = Assert.Throws<MpcSignerException>(() => CadesSignature.Sign(document, key, [future]));
        Assert.StartsWith($"The certificate CN=Carol is not valid yet (from {future.NotBefore.ToUniversalTime():u})", early.Message, StringComparison.Ordinal);
        // The bounds are inclusive, at the whole second the signing-time attribute records.
        Assert.NotNull(CadesSignature.Verify(document, CadesSignature.Sign(document, key, [expired], expired.NotAfter.AddMilliseconds(999))));
        Assert.NotNull(CadesSignature.Verify(document, CadesSignature.Sign(document, key, [longLived]), [longLived]));
    }

    [Fact]
    public async Task An_expired_certificate_the_server_returns_as_the_keys_chain_is_refused()
    {
        using MpcSignerClient client = server.Client("cms-expired");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        // A certificate that really was this key's, once: what a server could hand back instead of the current one.
        using X509Certificate2 old = await client.CreateSelfSignedCertificateAsync(
            key, new X500DistinguishedName("CN=Alice, T=Former Director"), DateTimeOffset.UtcNow.AddDays(-400), DateTimeOffset.UtcNow.AddDays(-35));

        var refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.SignCmsAsync(key, "terms"u8.ToArray()));

        Assert.Equal(MpcErrorReason.DocumentSignature, refused.Reason);
        Assert.StartsWith("The certificate CN=Alice, T=Former Director expired at ", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetCertificateChain_refuses_another_keys_certificate_and_garbage_and_keeps_the_stored_chain()
    {
        using MpcSignerClient client = server.Client("cms-chain");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        MpcKeyInfo before = await client.GetKeyAsync(key.KeyId);
        Assert.Empty(before.CertificateChain);
        using X509Certificate2 own = await client.CreateSelfSignedCertificateAsync(
            key, new X500DistinguishedName("CN=Dave"), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        MpcKeyInfo stored = await client.GetKeyAsync(key.KeyId);
        Assert.Equal(own.RawData, Assert.Single(stored.CertificateChain).RawData);
        Assert.Equal(own.RawData, Assert.Single((await client.ListKeysAsync()).Single(k => k.KeyId == key.KeyId).CertificateChain).RawData);

        using X509Certificate2 foreign = SoftwareCertificate("CN=Dave", out ECDsa foreignKey);
        foreignKey.Dispose();
        var wrongKey = await Assert.ThrowsAsync<MpcSignerException>(() => client.SetCertificateChainAsync(key.KeyId, [foreign]));
        Assert.Equal(StatusCode.InvalidArgument, wrongKey.Status);
        Assert.Contains("is not for this key", wrongKey.Message, StringComparison.Ordinal);

        using RawSigner raw = server.Raw(server.Token("cms-chain"));
        foreach (Google.Protobuf.ByteString[] chain in new[]
        {
            new[] { Google.Protobuf.ByteString.CopyFrom(RandomNumberGenerator.GetBytes(300)) },
            [],
            [.. Enumerable.Repeat(Google.Protobuf.ByteString.CopyFrom(own.RawData), 11)],
            [Google.Protobuf.ByteString.CopyFrom(own.RawData), Google.Protobuf.ByteString.CopyFrom(foreign.RawData)],
            [Google.Protobuf.ByteString.CopyFromUtf8(own.ExportCertificatePem())],
        })
        {
            var request = new Mpc.Transport.V1.SetCertificateChainRequest { KeyId = key.KeyId };
            request.CertificateChain.AddRange(chain);
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => raw.Client.SetCertificateChainAsync(request, raw.Headers).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        }

        MpcKeyInfo after = await client.GetKeyAsync(key.KeyId);
        Assert.Equal(own.RawData, Assert.Single(after.CertificateChain).RawData);

        // The chain is in storage, not only in the activation's memory.
        await server.RestartAsync();
        using MpcSignerClient afterRestart = server.Client("cms-chain");
        Assert.Equal(own.RawData, Assert.Single((await afterRestart.GetKeyAsync(key.KeyId)).CertificateChain).RawData);

        // Someone else's key: PermissionDenied, as for every other call.
        using MpcSignerClient mallory = server.Client("cms-mallory");
        var denied = await Assert.ThrowsAsync<MpcSignerException>(() => mallory.SetCertificateChainAsync(key.KeyId, [own]));
        Assert.Equal(StatusCode.PermissionDenied, denied.Status);
    }

    [Fact]
    public async Task A_chain_signed_by_a_ca_is_accepted_when_ordered_and_verifies_against_the_ca()
    {
        using MpcSignerClient client = server.Client("cms-ca");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Example CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10));
        using MpcECDsa ecdsa = client.CreateECDsa(key);
        var leafRequest = new CertificateRequest("CN=Erin", ecdsa, HashAlgorithmName.SHA256);
        leafRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.NonRepudiation, true));
        using X509Certificate2 leaf = leafRequest.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(5), [1, 2, 3, 4]);

        var reversed = await Assert.ThrowsAsync<MpcSignerException>(() => client.SetCertificateChainAsync(key.KeyId, [ca, leaf]));
        Assert.Equal(StatusCode.InvalidArgument, reversed.Status);
        MpcKeyInfo info = await client.SetCertificateChainAsync(key.KeyId, [leaf, ca]);
        Assert.Equal(2, info.CertificateChain.Count);

        byte[] document = "countersigned"u8.ToArray();
        byte[] cms = await client.SignCmsAsync(key, document);
        CadesVerification verified = CadesSignature.Verify(document, cms, [ca]);
        Assert.Equal(2, verified.ValidatedChain.Count);
        Assert.Equal(2, verified.IncludedCertificates.Count);

        (string documentFile, string signatureFile, string caFile) = Write(document, cms, ca);
        ProcessResult openssl = ProcessRunner.OpenSsl("cms", "-verify", "-binary", "-inform", "DER", "-in", signatureFile, "-content", documentFile, "-CAfile", caFile, "-out", "/dev/null");
        Assert.True(openssl.ExitCode == 0, openssl.Stderr);
    }

    /// <summary>A CAdES signature by <paramref name="key"/> for <paramref name="signer"/> whose signing-certificate-v2 names <paramref name="named"/>.</summary>
    private static byte[] RewriteSigningCertificate(byte[] document, ECDsa key, X509Certificate2 signer, X509Certificate2 named)
    {
        var cms = new SignedCms(new ContentInfo(document), detached: true);
        var cmsSigner = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, signer, key);
        cmsSigner.SignedAttributes.Add(new Pkcs9SigningTime(DateTime.UtcNow));
        cmsSigner.SignedAttributes.Add(new AsnEncodedData("1.2.840.113549.1.9.16.2.47", TestSigningCertificateV2(named)));
        cms.ComputeSignature(cmsSigner, silent: true);
        return cms.Encode();
    }

    private static byte[] TestSigningCertificateV2(X509Certificate2 certificate)
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSequence())
        using (writer.PushSequence())
        {
            writer.WriteOctetString(SHA256.HashData(certificate.RawData));
        }
        return writer.Encode();
    }

    private static X509Certificate2 SoftwareCertificate(string subject, out ECDsa key)
    {
        key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return SoftwareCertificate(subject, key);
    }

    private static X509Certificate2 SoftwareCertificate(string subject, ECDsa key) =>
        new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

    private (string Document, string Signature, string Certificate) Write(byte[] document, byte[] cms, X509Certificate2 certificate)
    {
        string name = Guid.NewGuid().ToString("N");
        string documentFile = Path.Combine(_root.Path, name + ".txt"), signatureFile = Path.Combine(_root.Path, name + ".p7s"), certificateFile = Path.Combine(_root.Path, name + ".pem");
        File.WriteAllBytes(documentFile, document);
        File.WriteAllBytes(signatureFile, cms);
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem() + "\n");
        return (documentFile, signatureFile, certificateFile);
    }

    public void Dispose()
    {
        _root.Dispose();
    }
}
