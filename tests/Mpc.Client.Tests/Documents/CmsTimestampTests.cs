using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using Mpc.Client;
using Mpc.Client.Documents;
using Mpc.Crypto.Curves;
using Mpc.Testing.Server;

namespace Mpc.Client.Tests.Documents;

/// <summary>
/// CAdES-B-T: a signature time-stamp from an RFC 3161 authority (BouncyCastle's, <see cref="TestTimestampAuthority"/>)
/// added to a CAdES-BES signature, checked by `openssl cms` and `openssl ts` and by <see cref="CadesSignature.Verify"/>;
/// and every way the authority or a tampered signature can fail.
/// </summary>
[Collection("server")]
public sealed class CmsTimestampTests(ServerFixture server) : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _root = new("mpc-tsa-");
    private TestTimestampAuthority _tsa = null!;

    public async Task InitializeAsync() => _tsa = await TestTimestampAuthority.StartAsync();

    public async Task DisposeAsync() => await _tsa.DisposeAsync();

    [Theory]
    [InlineData(CurveKind.P256, "sha256")]
    [InlineData(CurveKind.P384, "sha384")]
    public async Task A_split_key_signature_time_stamped_verifies_with_openssl_cms_and_ts_and_the_sdk(CurveKind curve, string digest)
    {
        using MpcSignerClient client = server.Client("tsa-" + curve);
        using MpcKey key = await client.CreateKeyAsync(curve);
        using X509Certificate2 certificate = await client.CreateSelfSignedCertificateAsync(
            key, new X500DistinguishedName("CN=Alice Example"), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        byte[] document = "I, Alice, agree to the terms.\n"u8.ToArray();
        byte[] cms = await client.SignCmsAsync(key, document);

        DateTimeOffset before = DateTimeOffset.UtcNow.AddSeconds(-1);
        using var authority = new TimestampAuthority(_tsa.Url);
        byte[] stamped = await CadesSignature.AddTimestampAsync(document, cms, authority);
        DateTimeOffset after = DateTimeOffset.UtcNow.AddSeconds(1);

        // The signed part is untouched: the same signature value over the same signed attributes.
        SignerInfo original = Decode(document, cms).SignerInfos[0], timestamped = Decode(document, stamped).SignerInfos[0];
        Assert.Equal(original.GetSignature(), timestamped.GetSignature());
        Assert.Empty(original.UnsignedAttributes);
        byte[] token = Assert.Single(Assert.Single(timestamped.UnsignedAttributes.Cast<CryptographicAttributeObject>(),
            a => a.Oid.Value == "1.2.840.113549.1.9.16.2.14").Values.Cast<AsnEncodedData>()).RawData;

        string documentFile = Write("doc.txt", document), signatureFile = Write("doc.p7s", stamped);
        string certificateFile = Write("signer.pem", certificate.ExportCertificatePem() + "\n"), tsaCaFile = Write("tsa-ca.pem", _tsa.Ca.ExportCertificatePem() + "\n");
        ProcessResult cmsVerified = ProcessRunner.OpenSsl("cms", "-verify", "-binary", "-inform", "DER", "-in", signatureFile, "-content", documentFile, "-CAfile", certificateFile, "-out", "/dev/null");
        Assert.True(cmsVerified.ExitCode == 0, cmsVerified.Stderr);
        ProcessResult printed = ProcessRunner.OpenSsl("cms", "-cmsout", "-print", "-inform", "DER", "-in", signatureFile);
        Assert.Contains("id-smime-aa-timeStampToken", printed.Stdout, StringComparison.Ordinal);

        // OpenSSL's own TSP code: the token is over the signature value, with the imprint digest of the curve, and
        // chains to the authority's CA.
        string tokenFile = Write("token.der", token), signatureValueFile = Write("signature-value.bin", timestamped.GetSignature());
        ProcessResult tsVerified = ProcessRunner.OpenSsl("ts", "-verify", "-token_in", "-in", tokenFile, "-data", signatureValueFile, "-CAfile", tsaCaFile);
        Assert.True(tsVerified.ExitCode == 0, tsVerified.Stdout + tsVerified.Stderr);
        Assert.Contains("Verification: OK", tsVerified.Stdout, StringComparison.Ordinal);
        ProcessResult tokenText = ProcessRunner.OpenSsl("ts", "-reply", "-token_in", "-in", tokenFile, "-token_out", "-text");
        Assert.Contains($"Hash Algorithm: {digest}", tokenText.Stdout, StringComparison.Ordinal);

        CadesVerification result = CadesSignature.Verify(document, stamped, [certificate], timestampAnchors: [_tsa.Ca]);
        Assert.True(result.ChainValidated);
        CadesTimestamp stamp = Assert.IsType<CadesTimestamp>(result.Timestamp);
        Assert.True(stamp.ChainValidated);
        Assert.Equal(_tsa.Certificate.Thumbprint, stamp.Authority.Thumbprint);
        Assert.Equal(_tsa.Ca.Thumbprint, stamp.ValidatedChain[^1].Thumbprint);
        Assert.InRange(stamp.Time, before, after);

        // Without time-stamp anchors the time-stamp is still checked, and said to be unanchored.
        CadesTimestamp unanchored = CadesSignature.Verify(document, stamped).Timestamp!;
        Assert.False(unanchored.ChainValidated);
        Assert.Empty(unanchored.ValidatedChain);
    }

    [Fact]
    public async Task A_trusted_time_stamp_keeps_a_signature_valid_after_its_certificate_expired()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 certificate = SelfSigned("CN=Short Lived", key, now.AddMinutes(-1), now.AddSeconds(3));
        byte[] document = "signed before the certificate expired"u8.ToArray();
        using var authority = new TimestampAuthority(_tsa.Url);
        byte[] stamped = await CadesSignature.AddTimestampAsync(document, CadesSignature.Sign(document, key, [certificate]), authority);

        await Task.Delay(certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow + TimeSpan.FromSeconds(1.5));

        var expired = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, stamped, [certificate]));
        Assert.StartsWith("The signature's certificate (CN=Short Lived) is not trusted by the given trust anchors", expired.Message, StringComparison.Ordinal);
        // The time-stamp's authority is trusted, so the signer's chain is checked at the time-stamp's time.
        CadesVerification result = CadesSignature.Verify(document, stamped, [certificate], timestampAnchors: [_tsa.Ca]);
        Assert.True(result.ChainValidated);
        Assert.True(result.Timestamp!.Time < certificate.NotAfter.ToUniversalTime());
        // An untrusted time-stamp proves nothing: the chain is checked now, and fails.
        Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, stamped, [certificate]));
    }

    [Theory]
    [InlineData(TestTimestampAuthority.Answer.Reject, MpcErrorReason.TimestampRefused, "it refused the request: status 2 (rejection), badAlg: \"this authority does not take that digest\"")]
    [InlineData(TestTimestampAuthority.Answer.OtherImprint, MpcErrorReason.TimestampRefused, "its token does not match the request")]
    [InlineData(TestTimestampAuthority.Answer.OtherNonce, MpcErrorReason.TimestampRefused, "its token does not match the request")]
    [InlineData(TestTimestampAuthority.Answer.Garbage, MpcErrorReason.TimestampRefused, "its token does not match the request")]
    [InlineData(TestTimestampAuthority.Answer.HttpError, MpcErrorReason.TimestampUnavailable, "answered HTTP 500")]
    public async Task An_authority_that_refuses_or_answers_wrongly_is_reported_and_nothing_is_returned(
        TestTimestampAuthority.Answer answer, MpcErrorReason reason, string expected)
    {
        (byte[] document, byte[] cms) = SoftwareSignature("CN=Dave");
        _tsa.Mode = answer;
        using var authority = new TimestampAuthority(_tsa.Url);
        var refused = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(document, cms, authority));
        Assert.Equal(reason, refused.Reason);
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.StartsWith($"The time-stamping authority {_tsa.Url}", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.Equal(1, _tsa.Requests);
    }

    [Fact]
    public async Task An_authority_that_does_not_answer_in_time_or_at_all_is_unavailable()
    {
        (byte[] document, byte[] cms) = SoftwareSignature("CN=Erin");
        _tsa.Mode = TestTimestampAuthority.Answer.Slow;
        using (var patient = new HttpClient { Timeout = TimeSpan.FromSeconds(1) })
        using (var authority = new TimestampAuthority(_tsa.Url, patient))
        {
            var slow = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(document, cms, authority));
            Assert.Equal(MpcErrorReason.TimestampUnavailable, slow.Reason);
            Assert.Contains("did not answer within 1 s", slow.Message, StringComparison.Ordinal);
        }

        using var closed = new TimestampAuthority(new Uri($"http://127.0.0.1:{ClosedPort()}/"));
        var unreachable = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(document, cms, closed));
        Assert.Equal(MpcErrorReason.TimestampUnavailable, unreachable.Reason);
        Assert.Contains("could not be reached", unreachable.Message, StringComparison.Ordinal);

        // The caller's cancellation is a cancellation, not an unavailable authority.
        using var cancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        using var authority2 = new TimestampAuthority(_tsa.Url);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CadesSignature.AddTimestampAsync(document, cms, authority2, cancelled.Token));
    }

    [Fact]
    public async Task A_signature_that_does_not_verify_is_not_sent_to_the_authority()
    {
        (byte[] document, byte[] cms) = SoftwareSignature("CN=Frank");
        using var authority = new TimestampAuthority(_tsa.Url);
        byte[] changed = [.. document, (byte)'!'];
        var refused = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(changed, cms, authority));
        Assert.Equal(MpcErrorReason.DocumentSignature, refused.Reason);
        Assert.Equal("The document does not match the signature.", refused.Message);
        Assert.Equal(0, _tsa.Requests);

        Assert.Throws<ArgumentException>(() => new TimestampAuthority(new Uri("ftp://tsa.example/")));
    }

    [Fact]
    public async Task A_time_stamp_moved_from_another_signature_altered_or_untrusted_is_refused()
    {
        (byte[] document, byte[] cms) = SoftwareSignature("CN=Grace");
        (byte[] otherDocument, byte[] otherCms) = SoftwareSignature("CN=Heidi");
        using var authority = new TimestampAuthority(_tsa.Url);
        byte[] stamped = await CadesSignature.AddTimestampAsync(document, cms, authority);
        byte[] otherStamped = await CadesSignature.AddTimestampAsync(otherDocument, otherCms, authority);

        // Heidi's token moved onto Grace's signature: a valid token, over another signature value.
        SignedCms grace = Decode(document, cms);
        byte[] heidiToken = Decode(otherDocument, otherStamped).SignerInfos[0].UnsignedAttributes[0].Values[0].RawData;
        grace.SignerInfos[0].AddUnsignedAttribute(new AsnEncodedData("1.2.840.113549.1.9.16.2.14", heidiToken));
        var moved = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, grace.Encode()));
        Assert.Equal("The signature's time-stamp does not verify: it is not over this signature, its own signature is not valid, or its certificate is not for time-stamping.", moved.Message);

        // The token is the CMS's last element and ends with its own ECDSA signature: one bit of it changed.
        byte[] altered = (byte[])stamped.Clone();
        altered[^1] ^= 0x01;
        var tampered = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, altered));
        Assert.Equal(MpcErrorReason.DocumentSignature, tampered.Reason);
        Assert.Contains("time-stamp", tampered.Message, StringComparison.Ordinal);

        await using TestTimestampAuthority stranger = await TestTimestampAuthority.StartAsync("Stranger TSA");
        var untrusted = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, stamped, timestampAnchors: [stranger.Ca]));
        Assert.StartsWith("The time-stamp's authority (CN=Test TSA) is not trusted by the given time-stamp trust anchors", untrusted.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, cms, timestampAnchors: [_tsa.Ca]));
        Assert.Equal("The signature has no time-stamp, and time-stamp trust anchors were given.", missing.Message);
    }

    private (byte[] Document, byte[] Cms) SoftwareSignature(string subject)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 certificate = SelfSigned(subject, key, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        byte[] document = RandomNumberGenerator.GetBytes(200);
        return (document, CadesSignature.Sign(document, key, [certificate]));
    }

    private static X509Certificate2 SelfSigned(string subject, ECDsa key, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation, true));
        return request.CreateSelfSigned(notBefore, notAfter);
    }

    private static SignedCms Decode(byte[] document, byte[] cms)
    {
        var signed = new SignedCms(new ContentInfo(document), detached: true);
        signed.Decode(cms);
        return signed;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_root.Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Write(string name, string text) => Write(name, System.Text.Encoding.ASCII.GetBytes(text));

    public void Dispose() => _root.Dispose();
}
