using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
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
        TimestampedSignature added = await CadesSignature.AddTimestampAsync(document, cms, authority);
        byte[] stamped = added.Signature;
        DateTimeOffset after = DateTimeOffset.UtcNow.AddSeconds(1);
        Assert.InRange(added.Timestamp.Time, before, after);
        Assert.False(added.Timestamp.ChainValidated); // no anchors given

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

        DateTimeOffset verifiedFrom = DateTimeOffset.UtcNow;
        CadesVerification result = CadesSignature.Verify(document, stamped, [certificate], timestampAnchors: [_tsa.Ca]);
        Assert.True(result.ChainValidated);
        Assert.InRange(result.ChainValidatedAt!.Value, verifiedFrom, DateTimeOffset.UtcNow); // valid now: checked now
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
        byte[] stamped = (await CadesSignature.AddTimestampAsync(document, CadesSignature.Sign(document, key, [certificate]), authority)).Signature;

        await Task.Delay(certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow + TimeSpan.FromSeconds(1.5));

        var expired = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, stamped, [certificate]));
        Assert.StartsWith("The signature's certificate (CN=Short Lived) is not trusted by the given trust anchors", expired.Message, StringComparison.Ordinal);
        // The time-stamp's authority is trusted, so the signer's chain is checked at the time-stamp's time.
        CadesVerification result = CadesSignature.Verify(document, stamped, [certificate], timestampAnchors: [_tsa.Ca]);
        Assert.True(result.ChainValidated);
        Assert.True(result.Timestamp!.Time < certificate.NotAfter.ToUniversalTime());
        Assert.Equal(result.Timestamp.LatestTime, result.ChainValidatedAt);
        // A time-stamp whose authority is not trusted proves nothing: the chain is checked now, and fails.
        await using TestTimestampAuthority stranger = await TestTimestampAuthority.StartAsync("Stranger TSA");
        var untrusted = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, stamped, [certificate], timestampAnchors: [stranger.Ca]));
        Assert.StartsWith("The time-stamp's authority (CN=Test TSA) is not trusted by the given time-stamp trust anchors", untrusted.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TestTimestampAuthority.Answer.Reject, MpcErrorReason.TimestampRefused, "it refused the request: status 2 (rejection), badAlg: \"this authority does not take that digest\"")]
    [InlineData(TestTimestampAuthority.Answer.OtherImprint, MpcErrorReason.TimestampRefused, "its token does not match the request")]
    [InlineData(TestTimestampAuthority.Answer.OtherNonce, MpcErrorReason.TimestampRefused, "its token does not match the request")]
    [InlineData(TestTimestampAuthority.Answer.Garbage, MpcErrorReason.TimestampRefused, "its token does not match the request")]
    [InlineData(TestTimestampAuthority.Answer.HttpError, MpcErrorReason.TimestampUnavailable, "answered HTTP 500")]
    [InlineData(TestTimestampAuthority.Answer.HugeDeclared, MpcErrorReason.TimestampRefused, "its reply is 2097152 bytes, more than the 1048576 read")]
    [InlineData(TestTimestampAuthority.Answer.HugeStreamed, MpcErrorReason.TimestampRefused, "its reply is longer than the 1048576 bytes read")]
    public async Task An_authority_that_refuses_or_answers_wrongly_is_reported_and_nothing_is_returned(
        TestTimestampAuthority.Answer answer, MpcErrorReason reason, string expected)
    {
        (byte[] document, byte[] cms) = SoftwareSignature("CN=Dave");
        _tsa.Mode = answer;
        using var authority = new TimestampAuthority(_tsa.Url);
        var refused = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(document, cms, authority));
        Assert.True(reason == refused.Reason && refused.Message.Contains(expected, StringComparison.Ordinal), refused.Reason + ": " + refused.Message);
        Assert.StartsWith($"The time-stamping authority {_tsa.Url}", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.Equal(1, _tsa.Requests);
    }

    [Fact]
    public async Task An_authority_that_does_not_answer_in_time_or_at_all_is_unavailable()
    {
        (byte[] document, byte[] cms) = SoftwareSignature("CN=Erin");
        // Slow before its headers, and silent in the middle of its body: the client's timeout covers both.
        foreach (TestTimestampAuthority.Answer slowly in new[] { TestTimestampAuthority.Answer.Slow, TestTimestampAuthority.Answer.StallBody })
        {
            _tsa.Mode = slowly;
            using var impatient = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
            using var authority = new TimestampAuthority(_tsa.Url, impatient);
            var slow = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(document, cms, authority));
            Assert.Equal(MpcErrorReason.TimestampUnavailable, slow.Reason);
            Assert.Equal($"The time-stamping authority {_tsa.Url} did not answer within 1 s.", slow.Message);
        }
        _tsa.Mode = TestTimestampAuthority.Answer.Slow;

        // A connection dropped in the middle of the reply (or, when the drop wins the race, before its headers).
        _tsa.Mode = TestTimestampAuthority.Answer.CutBody;
        using (var authority = new TimestampAuthority(_tsa.Url))
        {
            var cut = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(document, cms, authority));
            Assert.Equal(MpcErrorReason.TimestampUnavailable, cut.Reason);
            Assert.Matches($"^The time-stamping authority {Regex.Escape(_tsa.Url.ToString())} (broke off its reply|could not be reached) \\(", cut.Message);
        }
        _tsa.Mode = TestTimestampAuthority.Answer.Slow;

        // Credentials in the URL (user information, an API key in the query) never reach a message.
        int port = ClosedPort();
        using var closed = new TimestampAuthority(new Uri($"http://account:s3cret@127.0.0.1:{port}/tsa?apikey=XYZ"));
        var unreachable = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(document, cms, closed));
        Assert.Equal(MpcErrorReason.TimestampUnavailable, unreachable.Reason);
        Assert.StartsWith($"The time-stamping authority http://127.0.0.1:{port}/tsa could not be reached", unreachable.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", unreachable.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("XYZ", unreachable.Message, StringComparison.Ordinal);

        // The caller's cancellation is a cancellation, not an unavailable authority.
        using var cancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        using var authority2 = new TimestampAuthority(_tsa.Url);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CadesSignature.AddTimestampAsync(document, cms, authority2, cancellationToken: cancelled.Token));
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
        byte[] stamped = (await CadesSignature.AddTimestampAsync(document, cms, authority)).Signature;
        byte[] otherStamped = (await CadesSignature.AddTimestampAsync(otherDocument, otherCms, authority)).Signature;

        // Heidi's token moved onto Grace's signature: a valid token, over another signature value.
        SignedCms grace = Decode(document, cms);
        byte[] heidiToken = Decode(otherDocument, otherStamped).SignerInfos[0].UnsignedAttributes[0].Values[0].RawData;
        grace.SignerInfos[0].AddUnsignedAttribute(new AsnEncodedData("1.2.840.113549.1.9.16.2.14", heidiToken));
        var moved = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, grace.Encode()));
        Assert.Equal("The signature's time-stamp does not verify: it is not over this signature, its own signature is not valid, or its certificate is not for time-stamping.", moved.Message);

        // One digit of a time inside the token (the CMS's last element: its time, its signed attributes' or its
        // certificate's) changed, so that it still decodes but its signature no longer holds.
        byte[] altered = (byte[])stamped.Clone();
        int at = stamped.AsSpan().LastIndexOf(System.Text.Encoding.ASCII.GetBytes(DateTime.UtcNow.Year.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(at > cms.Length, "no time found inside the token");
        altered[at + 3] = (byte)(altered[at + 3] == (byte)'9' ? '8' : altered[at + 3] + 1);
        var tampered = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, altered));
        Assert.Contains(tampered.Message, new[] { moved.Message, "The signature's time-stamp is not an RFC 3161 time-stamp token." });
        Assert.NotNull(CadesSignature.Verify(document, stamped).Timestamp); // the unaltered one holds

        await using TestTimestampAuthority stranger = await TestTimestampAuthority.StartAsync("Stranger TSA");
        var untrusted = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, stamped, timestampAnchors: [stranger.Ca]));
        Assert.StartsWith("The time-stamp's authority (CN=Test TSA) is not trusted by the given time-stamp trust anchors", untrusted.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, cms, timestampAnchors: [_tsa.Ca]));
        Assert.Equal("The signature has no time-stamp, and time-stamp trust anchors were given.", missing.Message);
    }

    [Fact]
    public async Task The_authoritys_words_reach_the_message_as_one_line_of_visible_text()
    {
        (byte[] document, byte[] cms) = SoftwareSignature("CN=Kim");
        _tsa.Mode = TestTimestampAuthority.Answer.Reject;
        _tsa.RejectText = "busy\n\u001b[2K\rgranted \u202Eok";
        using var authority = new TimestampAuthority(_tsa.Url);
        var refused = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(document, cms, authority));
        Assert.EndsWith(": \"busy??[2K?granted ?ok\".", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_anchors_the_new_time_stamp_must_be_trusted_and_near_this_machines_clock()
    {
        (byte[] document, byte[] cms) = SoftwareSignature("CN=Liam");
        using var authority = new TimestampAuthority(_tsa.Url);
        TimestampedSignature first = await CadesSignature.AddTimestampAsync(document, cms, authority, [_tsa.Ca]);
        Assert.True(first.Timestamp.ChainValidated);
        byte[] stamped = first.Signature;
        Assert.True(CadesSignature.Verify(document, stamped, timestampAnchors: [_tsa.Ca]).Timestamp!.ChainValidated);

        // A second time-stamp is added beside the first, and is the one returned (the CMS reports the earliest).
        await Task.Delay(1100);
        TimestampedSignature twice = await CadesSignature.AddTimestampAsync(document, stamped, authority, [_tsa.Ca]);
        Assert.Equal(2, HandMadeTimestamps.Decode(document, twice.Signature).SignerInfos[0].UnsignedAttributes[0].Values.Count);
        Assert.True(twice.Timestamp.Time > first.Timestamp.Time);
        Assert.Equal(first.Timestamp.Time, CadesSignature.Verify(document, twice.Signature, timestampAnchors: [_tsa.Ca]).Timestamp!.Time);

        // With anchors, the new token must be trusted itself: the trusted one already there does not stand in for it.
        await using TestTimestampAuthority other = await TestTimestampAuthority.StartAsync("Other TSA");
        using var otherAuthority = new TimestampAuthority(other.Url);
        var besideTrusted = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(document, stamped, otherAuthority, [_tsa.Ca]));
        Assert.Equal(MpcErrorReason.TimestampRefused, besideTrusted.Reason);
        Assert.StartsWith($"The time-stamping authority {other.Url} answered with a time-stamp that is refused: The time-stamp's authority (CN=Other TSA) is not trusted by the given time-stamp trust anchors",
            besideTrusted.Message, StringComparison.Ordinal);

        await using TestTimestampAuthority stranger = await TestTimestampAuthority.StartAsync("Stranger TSA");
        var untrusted = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(document, cms, authority, [stranger.Ca]));
        Assert.Equal(MpcErrorReason.TimestampRefused, untrusted.Reason);
        Assert.StartsWith($"The time-stamping authority {_tsa.Url} answered with a time-stamp that is refused: The time-stamp's authority (CN=Test TSA) is not trusted by the given time-stamp trust anchors",
            untrusted.Message, StringComparison.Ordinal);

        _tsa.ClockOffset = TimeSpan.FromHours(-1);
        var behind = await Assert.ThrowsAsync<MpcSignerException>(() => CadesSignature.AddTimestampAsync(document, cms, authority));
        Assert.Equal(MpcErrorReason.TimestampRefused, behind.Reason);
        Assert.Contains("is 60 minutes from this machine's clock: check this machine's clock, or the authority CN=Test TSA.", behind.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_authority_certificate_that_expired_is_not_trusted_even_for_a_time_it_claims_was_before()
    {
        // The authority's key may have leaked after its certificate expired: its word about the past is worth nothing now.
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 ca = HandMadeTimestamps.Ca("Old TSA Root", now.AddYears(-5), now.AddYears(5));
        using X509Certificate2 oldAuthority = HandMadeTimestamps.Authority(ca, "Old TSA", now.AddYears(-3), now.AddYears(-1));
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 signer = SelfSigned("CN=Expired Signer", key, now.AddYears(-2), now.AddYears(-1));
        byte[] document = "backdated"u8.ToArray();
        byte[] cms = CadesSignature.Sign(document, key, [signer], now.AddMonths(-18));
        byte[] stamped = HandMadeTimestamps.WithToken(document, cms,
            HandMadeTimestamps.Token(oldAuthority, HandMadeTimestamps.SignatureValue(document, cms), now.AddMonths(-18)));

        var refused = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, stamped, [signer], timestampAnchors: [ca]));
        Assert.StartsWith("The time-stamp's authority (CN=Old TSA) is not trusted by the given time-stamp trust anchors", refused.Message, StringComparison.Ordinal);
        // Checked at a time the caller chooses, inside both certificates' lives, it holds.
        Assert.True(CadesSignature.Verify(document, stamped, [signer], now.AddMonths(-17), [ca]).Timestamp!.ChainValidated);
    }

    [Fact]
    public void A_token_with_other_key_usages_or_sha1_is_refused()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 ca = HandMadeTimestamps.Ca("TSA Root", now.AddYears(-1), now.AddYears(5));
        (byte[] document, byte[] cms) = SoftwareSignature("CN=Mia");
        byte[] value = HandMadeTimestamps.SignatureValue(document, cms);

        using X509Certificate2 multiPurpose = HandMadeTimestamps.Authority(ca, "Multi Purpose", now.AddDays(-1), now.AddYears(1),
            "1.3.6.1.5.5.7.3.1", HandMadeTimestamps.TimeStamping);
        var usages = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document,
            HandMadeTimestamps.WithToken(document, cms, HandMadeTimestamps.Token(multiPurpose, value, now))));
        Assert.Equal("The time-stamp's authority (CN=Multi Purpose) has a certificate whose extended key usage is not time-stamping alone, marked critical (RFC 3161).", usages.Message);

        using X509Certificate2 authority = HandMadeTimestamps.Authority(ca, "Good TSA", now.AddDays(-1), now.AddYears(1));
        var sha1 = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document,
            HandMadeTimestamps.WithToken(document, cms, HandMadeTimestamps.Token(authority, value, now, sha1: true))));
        Assert.StartsWith("The signature's time-stamp uses digest 1.3.14.3.2.26", sha1.Message, StringComparison.Ordinal);
        Assert.NotNull(CadesSignature.Verify(document, HandMadeTimestamps.WithToken(document, cms, HandMadeTimestamps.Token(authority, value, now)),
            timestampAnchors: [ca]).Timestamp);
    }

    [Fact]
    public void A_tokens_accuracy_counts_against_the_signer_and_a_signing_time_after_it_or_a_future_time_is_refused()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 ca = HandMadeTimestamps.Ca("TSA Root", now.AddYears(-1), now.AddYears(5));
        using X509Certificate2 authority = HandMadeTimestamps.Authority(ca, "Good TSA", now.AddYears(-1), now.AddYears(1));

        // The signer's certificate expired yesterday; the token says one minute before that, give or take nine minutes.
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        DateTimeOffset expired = new(now.AddDays(-1).UtcDateTime.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        using X509Certificate2 signer = SelfSigned("CN=Nora", key, now.AddDays(-30), expired);
        byte[] document = "accuracy"u8.ToArray();
        byte[] cms = CadesSignature.Sign(document, key, [signer], expired.AddMinutes(-2));
        byte[] value = HandMadeTimestamps.SignatureValue(document, cms);
        byte[] exact = HandMadeTimestamps.WithToken(document, cms, HandMadeTimestamps.Token(authority, value, expired.AddMinutes(-1)));
        Assert.True(CadesSignature.Verify(document, exact, [signer], timestampAnchors: [ca]).ChainValidated);
        byte[] vague = HandMadeTimestamps.WithToken(document, cms, HandMadeTimestamps.Token(authority, value, expired.AddMinutes(-1), accuracyMicroseconds: 540_000_000));
        var late = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, vague, [signer], timestampAnchors: [ca]));
        Assert.StartsWith("The signature's certificate (CN=Nora) is not trusted by the given trust anchors", late.Message, StringComparison.Ordinal);

        // A signing time claimed two hours after a trusted time-stamp is false.
        (byte[] now2, byte[] fresh) = SoftwareSignature("CN=Omar");
        byte[] backdatedStamp = HandMadeTimestamps.WithToken(now2, fresh,
            HandMadeTimestamps.Token(authority, HandMadeTimestamps.SignatureValue(now2, fresh), now.AddHours(-2)));
        var claim = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(now2, backdatedStamp, timestampAnchors: [ca]));
        Assert.StartsWith("The signing time the signer claims (", claim.Message, StringComparison.Ordinal);
        Assert.EndsWith("which proves the signature existed earlier: the claim is false.", claim.Message, StringComparison.Ordinal);
        Assert.NotNull(CadesSignature.Verify(now2, backdatedStamp).Timestamp); // untrusted: reported, not held against the signer

        // A trusted authority's time an hour ahead of this machine's clock.
        byte[] future = HandMadeTimestamps.WithToken(now2, fresh,
            HandMadeTimestamps.Token(authority, HandMadeTimestamps.SignatureValue(now2, fresh), now.AddHours(1)));
        var ahead = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(now2, future, timestampAnchors: [ca]));
        Assert.StartsWith("The time-stamp's time ", ahead.Message, StringComparison.Ordinal);
        Assert.Contains(" is in the future (by 60 minutes)", ahead.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_from_an_authority_not_trusted_here_is_ignored_beside_a_trusted_one()
    {
        (byte[] document, byte[] cms) = SoftwareSignature("CN=Pia");
        using var authority = new TimestampAuthority(_tsa.Url);
        byte[] stamped = (await CadesSignature.AddTimestampAsync(document, cms, authority)).Signature;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 otherCa = HandMadeTimestamps.Ca("Other Root", now.AddYears(-1), now.AddYears(5));
        using X509Certificate2 other = HandMadeTimestamps.Authority(otherCa, "Other TSA", now.AddYears(-1), now.AddYears(1));
        // Added by someone handling the file, and a minute earlier, so that it would be the one reported if it counted.
        byte[] both = HandMadeTimestamps.WithToken(document, stamped,
            HandMadeTimestamps.Token(other, HandMadeTimestamps.SignatureValue(document, stamped), now.AddMinutes(-1)));

        Assert.Equal(_tsa.Certificate.Thumbprint, CadesSignature.Verify(document, both, timestampAnchors: [_tsa.Ca]).Timestamp!.Authority.Thumbprint);
        Assert.Equal(other.Thumbprint, CadesSignature.Verify(document, both, timestampAnchors: [otherCa]).Timestamp!.Authority.Thumbprint);
        Assert.Equal(other.Thumbprint, CadesSignature.Verify(document, both).Timestamp!.Authority.Thumbprint); // the earliest, unchecked
    }

    [Fact]
    public void A_vague_token_junk_in_the_attribute_or_a_certificate_not_yet_valid_is_not_rescued()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 ca = HandMadeTimestamps.Ca("TSA Root", now.AddYears(-1), now.AddYears(5));
        using X509Certificate2 authority = HandMadeTimestamps.Authority(ca, "Good TSA", now.AddYears(-1), now.AddYears(1));
        (byte[] document, byte[] cms) = SoftwareSignature("CN=Quinn");
        byte[] value = HandMadeTimestamps.SignatureValue(document, cms);

        // "Give or take an hour" would stretch the signing-time and chain checks by an hour.
        var vague = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document,
            HandMadeTimestamps.WithToken(document, cms, HandMadeTimestamps.Token(authority, value, now, accuracyMicroseconds: 3_600_000_000))));
        Assert.Equal("The signature's time-stamp is accurate only to within 60 minutes; at most 10 are accepted.", vague.Message);

        // Something that is no token at all in the signature-time-stamp attribute (a DER OCTET STRING).
        var junk = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(document, HandMadeTimestamps.WithToken(document, cms, [0x04, 0x02, 0xAB, 0xCD]),
            timestampAnchors: [ca]));
        Assert.Equal("The signature's time-stamp is not an RFC 3161 time-stamp token.", junk.Message);

        // A signer's certificate valid only from five minutes on: the token's latest time (now + 9 minutes) would
        // validate it, but the chain is never checked at a time after now.
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 early = SelfSigned("CN=Not Yet", key, now.AddMinutes(5), now.AddDays(1));
        byte[] earlyDocument = "not yet"u8.ToArray();
        byte[] earlyCms = CadesSignature.Sign(earlyDocument, key, [early], now.AddMinutes(6));
        byte[] earlyStamped = HandMadeTimestamps.WithToken(earlyDocument, earlyCms,
            HandMadeTimestamps.Token(authority, HandMadeTimestamps.SignatureValue(earlyDocument, earlyCms), now, accuracyMicroseconds: 540_000_000));
        var notYet = Assert.Throws<MpcSignerException>(() => CadesSignature.Verify(earlyDocument, earlyStamped, [early], timestampAnchors: [ca]));
        Assert.StartsWith("The signature's certificate (CN=Not Yet) is not trusted by the given trust anchors", notYet.Message, StringComparison.Ordinal);
        Assert.True(CadesSignature.Verify(earlyDocument, earlyStamped, [early], now.AddMinutes(6), [ca]).ChainValidated); // in its life, it holds
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
