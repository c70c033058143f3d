using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace Mpc.Client.Documents;

/// <summary>
/// Detached CMS SignedData in the CAdES-BES profile (ETSI EN 319 122-1): signed attributes content-type,
/// message-digest, signing-time and signing-certificate-v2; the signer's certificate and its chain included.
/// Signs through any <see cref="ECDsa"/>, in practice <see cref="MpcECDsa"/>; <c>openssl cms -verify</c>,
/// Adobe and the EU DSS validator read the result.
/// </summary>
public static class CadesSignature
{
    internal const string Sha256Oid = "2.16.840.1.101.3.4.2.1";
    internal const string Sha384Oid = "2.16.840.1.101.3.4.2.2";
    internal const string Sha512Oid = "2.16.840.1.101.3.4.2.3";

    /// <summary>id-aa-signatureTimeStampToken (RFC 3161 appendix A; CAdES-B-T): an unsigned attribute holding a time-stamp token over the signature value.</summary>
    internal const string SignatureTimestampOid = "1.2.840.113549.1.9.16.2.14";

    private const string TimeStampingUsageOid = "1.3.6.1.5.5.7.3.8";

    /// <summary>
    /// Signs <paramref name="document"/> and returns the DER CMS (a ".p7s"). <paramref name="chain"/> is the signer's
    /// certificate first, then its issuers (the trust anchor may be left out). With <see cref="MpcECDsa"/> this blocks
    /// for the two round trips of one signature.
    /// </summary>
    public static byte[] Sign(ReadOnlySpan<byte> document, ECDsa key, IReadOnlyList<X509Certificate2> chain, DateTimeOffset? signingTime = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(chain);
        // One builder for the SDK and the browser (CadesSignedData); the ECDsa signs the attributes' digest, so the
        // split key is never needed whole.
        var signedData = new CadesSignedData(document, HashFor(key), key.ExportSubjectPublicKeyInfo(),
            [.. chain.Select(certificate => certificate.RawData)], signingTime ?? DateTimeOffset.UtcNow);
        return signedData.Assemble(key.SignHash(signedData.DigestToSign, DSASignatureFormat.Rfc3279DerSequence));
    }

    /// <summary>Reads <paramref name="document"/> to its end and signs it; see <see cref="Sign(ReadOnlySpan{byte}, ECDsa, IReadOnlyList{X509Certificate2}, DateTimeOffset?)"/>.</summary>
    public static byte[] Sign(Stream document, ECDsa key, IReadOnlyList<X509Certificate2> chain, DateTimeOffset? signingTime = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        // The message digest is computed over the content in one span.
        using var buffer = new MemoryStream();
        document.CopyTo(buffer);
        return Sign(buffer.GetBuffer().AsSpan(0, checked((int)buffer.Length)), key, chain, signingTime);
    }

    /// <summary>
    /// Adds a signature time-stamp from <paramref name="authority"/> to a detached CAdES signature over
    /// <paramref name="document"/> (CAdES-BES becomes CAdES-B-T) and returns the new CMS with the time-stamp just added.
    /// The time-stamp is an unsigned attribute over the signature value: the signed part is not touched, and anyone
    /// holding the signature can add it later, such as a web application's back end for a signature its user's browser
    /// made. Only a signature that verifies (<see cref="Verify"/>, without trust anchors) is time-stamped. The result is
    /// verified again, the new time-stamp included: with <paramref name="timestampAnchors"/> the new time-stamp's own
    /// authority must chain to one of them (a trusted time-stamp the signature already had does not stand in for it), and
    /// its time must be within <see cref="ClockSkew"/> (plus its stated accuracy) of this machine's clock.
    /// </summary>
    /// <exception cref="MpcSignerException">
    /// <see cref="MpcErrorReason.DocumentSignature"/>: the signature does not verify (the authority is not asked);
    /// <see cref="MpcErrorReason.TimestampUnavailable"/> or <see cref="MpcErrorReason.TimestampRefused"/>: see
    /// <see cref="TimestampAuthority"/>; also TimestampRefused for a token <see cref="Verify"/> refuses (such as one whose
    /// authority <paramref name="timestampAnchors"/> do not trust) or a time too far from this machine's clock.
    /// </exception>
    public static async Task<TimestampedSignature> AddTimestampAsync(
        ReadOnlyMemory<byte> document, ReadOnlyMemory<byte> signature, TimestampAuthority authority,
        X509Certificate2Collection? timestampAnchors = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(authority);
        // A token over a broken signature would lend it a date.
        Verify(document.Span, signature.Span);
        SignedCms cms = Decode(document.Span, signature.Span);
        SignerInfo signer = cms.SignerInfos[0];
        byte[] token = await authority.TimestampAsync(signer, DigestByOid(signer.DigestAlgorithm.Value), cancellationToken).ConfigureAwait(false);
        signer.AddUnsignedAttribute(new AsnEncodedData(SignatureTimestampOid, token));
        byte[] stamped = cms.Encode();

        // The re-encoding must have kept the signed part, and the new token must be there (the CMS may have had one).
        DateTimeOffset now = DateTimeOffset.UtcNow;
        CadesTimestamp stamp;
        try
        {
            Verify(document.Span, stamped, timestampAnchors: timestampAnchors);
            SignedCms stampedCms = Decode(document.Span, stamped);
            SignerInfo stampedSigner = stampedCms.SignerInfos[0];
            if (!TimestampTokens(stampedSigner).Any(value => value.AsSpan().SequenceEqual(token)))
            {
                throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The time-stamp was not kept in the re-encoded signature.");
            }
            stamp = VerifyTimestamp(stampedSigner, token, stampedCms.Certificates, timestampAnchors, now);
            if (timestampAnchors is { Count: > 0 } && !stamp.ChainValidated)
            {
                throw Untrusted(stamp, stampedCms.Certificates, timestampAnchors, now);
            }
        }
        catch (MpcSignerException e) when (e.Reason == MpcErrorReason.DocumentSignature)
        {
            // The signature verified before the token was added: what fails now is the authority's answer.
            throw new MpcSignerException(MpcErrorReason.TimestampRefused, $"The time-stamping authority {authority.Shown} answered with a time-stamp that is refused: {e.Message}", e);
        }
        TimeSpan off = (stamp.Time - now).Duration();
        if (off > ClockSkew + (stamp.Accuracy ?? TimeSpan.Zero))
        {
            throw new MpcSignerException(MpcErrorReason.TimestampRefused,
                $"The time-stamp's time {stamp.Time.UtcDateTime:u} is {off.TotalMinutes:0} minutes from this machine's clock: check this machine's clock, or the authority {stamp.Authority.Subject}.");
        }
        return new TimestampedSignature(stamped, stamp);
    }

    /// <summary>
    /// How far a time-stamp's time may lie from this machine's clock when it is made, or ahead of it when it is verified,
    /// and how far the signer's claimed signing-time may lie after a trusted time-stamp: clocks drift.
    /// </summary>
    public static TimeSpan ClockSkew { get; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Verifies a detached CAdES-BES signature over <paramref name="document"/>: the message digest, the signature
    /// value under the signer's certificate, and that signing-certificate-v2 names that certificate. With
    /// <paramref name="trustAnchors"/> the signer's certificate must also chain to one of them at
    /// <paramref name="verificationTime"/> (default now; revocation is not checked). Without them nothing about
    /// who the signer is has been established: <see cref="CadesVerification.ChainValidated"/> is false.
    /// <para>
    /// Every signature time-stamp the signature carries (CAdES-B-T, <see cref="AddTimestampAsync"/>) must be a token over
    /// this signature value, with SHA-2 digests, signed by a certificate whose one extended key usage, critical, is
    /// time-stamping, and whose stated accuracy is at most <see cref="ClockSkew"/>: a token that is not (malformed, over
    /// another signature, SHA-1) makes the verification fail, as any other change to the file does. With
    /// <paramref name="timestampAnchors"/> a time-stamp from an authority that chains to one of them now (at
    /// <paramref name="verificationTime"/> when given) is required: valid tokens of other authorities are ignored, the
    /// earliest trusted one is <see cref="CadesVerification.Timestamp"/>, its time must not be ahead of now by more than
    /// <see cref="ClockSkew"/>, and a signing-time claimed more than <see cref="ClockSkew"/> after it is refused. A signer's
    /// chain that fails now only because a certificate has expired (not for any other reason) is then checked at the
    /// time-stamp's latest time (its time plus its accuracy, at most now), since the time-stamp proves the signature
    /// existed by then. Without time-stamp anchors <see cref="CadesVerification.Timestamp"/> is the earliest token,
    /// reported as unchecked.
    /// </para>
    /// Throws <see cref="MpcSignerException"/> on any failure.
    /// </summary>
    public static CadesVerification Verify(
        ReadOnlySpan<byte> document, ReadOnlySpan<byte> signature, X509Certificate2Collection? trustAnchors = null,
        DateTimeOffset? verificationTime = null, X509Certificate2Collection? timestampAnchors = null)
    {
        try
        {
            return VerifyDecoded(document, signature, trustAnchors, verificationTime, timestampAnchors);
        }
        catch (Exception e) when (e is CryptographicException or System.Formats.Asn1.AsnContentException)
        {
            // SignedCms decodes its certificates, attributes and time-stamp tokens only when they are first read.
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The signature is not a well-formed CMS: a part of it (a certificate, an attribute or a time-stamp) does not decode.", e);
        }
    }

    private static CadesVerification VerifyDecoded(
        ReadOnlySpan<byte> document, ReadOnlySpan<byte> signature, X509Certificate2Collection? trustAnchors,
        DateTimeOffset? verificationTime, X509Certificate2Collection? timestampAnchors)
    {
        SignedCms cms = Decode(document, signature);
        SignerInfo signerInfo = cms.SignerInfos[0];

        X509Certificate2 certificate = signerInfo.Certificate
            ?? throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The signature does not include its signer's certificate.");

        HashAlgorithmName digestAlgorithm = DigestByOid(signerInfo.DigestAlgorithm.Value);
        byte[] messageDigest = SignedAttribute(signerInfo, "1.2.840.113549.1.9.4") is { } digestAttribute
            ? ReadOctetString(digestAttribute.RawData)
            : throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The signature has no signed attributes, so it is not CAdES-BES.");
        // Checked before the signature value so that a changed document is reported as such.
        if (!CryptographicOperations.FixedTimeEquals(messageDigest, CryptographicOperations.HashData(digestAlgorithm, document)))
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The document does not match the signature.");
        }
        try
        {
            // An ECDSA signature value (X9.62 OIDs) must be DER itself, not merely something the platform's converter tolerates.
            if (signerInfo.SignatureAlgorithm.Value?.StartsWith("1.2.840.10045.", StringComparison.Ordinal) == true)
            {
                Mpc.Crypto.Curves.EcdsaDer.Decode(signerInfo.GetSignature());
            }
        }
        catch (Mpc.Crypto.MpcProtocolException e)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, $"The signature value is {e.Message}");
        }
        try
        {
            signerInfo.CheckSignature(verifySignatureOnly: true);
        }
        catch (CryptographicException)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, $"The signature value is not valid for the signer's certificate ({certificate.Subject}).");
        }
        AsnEncodedData signingCertificate = SignedAttribute(signerInfo, SigningCertificateV2.Oid)
            ?? throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The signature has no signing-certificate-v2 attribute, so it is not CAdES-BES.");
        if (!SigningCertificateV2.Names(signingCertificate.RawData, certificate))
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The signing-certificate-v2 attribute names another certificate than the one that signed.");
        }
        if (certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is { } usage
            && (usage.KeyUsages & (X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation)) == 0)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, $"The signer's certificate ({certificate.Subject}) does not allow signing (key usage).");
        }
        DateTimeOffset? signingTime = SignedAttribute(signerInfo, "1.2.840.113549.1.9.5") is { } time
            ? new Pkcs9SigningTime(time.RawData).SigningTime
            : null;

        DateTimeOffset now = verificationTime ?? DateTimeOffset.UtcNow;
        CadesTimestamp? timestamp = VerifyTimestamps(signerInfo, cms.Certificates, timestampAnchors, now);
        if (timestamp is { ChainValidated: true } && signingTime > timestamp.LatestTime + ClockSkew)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature,
                $"The signing time the signer claims ({signingTime.Value.UtcDateTime:u}) is after the trusted time-stamp ({timestamp.Time.UtcDateTime:u}), which proves the signature existed earlier: the claim is false.");
        }
        IReadOnlyList<X509Certificate2> validatedChain = [];
        DateTimeOffset? validatedAt = null;
        if (trustAnchors is { Count: > 0 })
        {
            validatedAt = now;
            X509Certificate2[]? chain = BuildChain(certificate, cms.Certificates, trustAnchors, now, usage: null, out X509ChainStatusFlags problems);
            if (chain is null && problems == X509ChainStatusFlags.NotTimeValid && verificationTime is null && timestamp is { ChainValidated: true })
            {
                // A trusted time-stamp proves the signature existed by its latest time, when the certificate may still
                // have been valid: that rescues an expired certificate and nothing else (not an untrusted or mis-issued
                // one). A verification time given by the caller is used as given.
                validatedAt = timestamp.LatestTime < now ? timestamp.LatestTime : now;
                chain = BuildChain(certificate, cms.Certificates, trustAnchors, validatedAt.Value, usage: null, out _);
            }
            validatedChain = chain ?? throw new MpcSignerException(MpcErrorReason.DocumentSignature,
                $"The signature's certificate ({certificate.Subject}) is not trusted by the given trust anchors{ChainFailure(certificate, cms.Certificates, trustAnchors, now, null)}.");
        }
        return new CadesVerification(certificate, [.. cms.Certificates], signingTime, digestAlgorithm, trustAnchors is { Count: > 0 }, validatedChain, timestamp, validatedAt);
    }

    /// <summary>The detached CMS over <paramref name="document"/>, with exactly one signer.</summary>
    private static SignedCms Decode(ReadOnlySpan<byte> document, ReadOnlySpan<byte> signature)
    {
        var cms = new SignedCms(new ContentInfo(document.ToArray()), detached: true);
        try
        {
            cms.Decode(signature);
            // Decoded lazily otherwise, and thrown from wherever they are first read.
            _ = cms.SignerInfos.Count;
            _ = cms.Certificates.Count;
        }
        catch (CryptographicException)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The signature is not a DER CMS SignedData.");
        }
        return cms.SignerInfos.Count == 1
            ? cms
            : throw new MpcSignerException(MpcErrorReason.DocumentSignature, $"The signature has {cms.SignerInfos.Count} signers; exactly one is supported.");
    }

    private static IEnumerable<byte[]> TimestampTokens(SignerInfo signer) =>
        signer.UnsignedAttributes.Cast<CryptographicAttributeObject>()
            .Where(attribute => attribute.Oid.Value == SignatureTimestampOid)
            .SelectMany(attribute => attribute.Values.Cast<AsnEncodedData>(), (_, value) => value.RawData);

    /// <summary>
    /// Checks every signature time-stamp of <paramref name="signer"/> (each must verify, <see cref="VerifyTimestamp"/>)
    /// and returns the earliest by its latest time, among those whose authority <paramref name="anchors"/> trust when
    /// they are given (then one is required); null when there is none and no anchors.
    /// </summary>
    private static CadesTimestamp? VerifyTimestamps(SignerInfo signer, X509Certificate2Collection included, X509Certificate2Collection? anchors, DateTimeOffset now)
    {
        CadesTimestamp[] stamps = [.. TimestampTokens(signer).Select(token => VerifyTimestamp(signer, token, included, anchors, now))];
        if (anchors is not { Count: > 0 })
        {
            return stamps.MinBy(stamp => stamp.LatestTime);
        }
        if (stamps.Length == 0)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The signature has no time-stamp, and time-stamp trust anchors were given.");
        }
        // Anyone handling the file can add a token of their own: one from an authority not trusted here is ignored.
        if (stamps.Where(stamp => stamp.ChainValidated).MinBy(stamp => stamp.LatestTime) is { } trusted)
        {
            return trusted.Time <= now + ClockSkew
                ? trusted
                : throw new MpcSignerException(MpcErrorReason.DocumentSignature,
                    $"The time-stamp's time {trusted.Time.UtcDateTime:u} is in the future (by {(trusted.Time - now).TotalMinutes:0} minutes): check this machine's clock, or the authority {trusted.Authority.Subject}.");
        }
        throw Untrusted(stamps[0], included, anchors, now);
    }

    private static MpcSignerException Untrusted(CadesTimestamp stamp, X509Certificate2Collection included, X509Certificate2Collection anchors, DateTimeOffset now) =>
        new(MpcErrorReason.DocumentSignature,
            $"The time-stamp's authority ({stamp.Authority.Subject}) is not trusted by the given time-stamp trust anchors{ChainFailure(stamp.Authority, [.. included, .. Candidates(stamp)], anchors, now, TimeStampingUsageOid)}.");

    /// <summary>
    /// One signature time-stamp token: an RFC 3161 token (no trailing bytes) over this signature value with a SHA-2
    /// digest, signed with a SHA-2 digest by the certificate it names (ESSCertID or ESSCertIDv2), which must have
    /// time-stamping as its one extended key usage, critical (RFC 3161 §2.3). With <paramref name="anchors"/>, whether
    /// that certificate chains to one of them at <paramref name="now"/> (not at the token's own time, which the
    /// authority's key itself asserts) is <see cref="CadesTimestamp.ChainValidated"/>.
    /// </summary>
    private static CadesTimestamp VerifyTimestamp(SignerInfo signer, byte[] encoded, X509Certificate2Collection included, X509Certificate2Collection? anchors, DateTimeOffset now)
    {
        if (!Rfc3161TimestampToken.TryDecode(encoded, out Rfc3161TimestampToken? token, out int consumed) || consumed != encoded.Length)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The signature's time-stamp is not an RFC 3161 time-stamp token.");
        }
        if (!token.VerifySignatureForSignerInfo(signer, out X509Certificate2? authority, included) || authority is null)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature,
                "The signature's time-stamp does not verify: it is not over this signature, its own signature is not valid, or its certificate is not for time-stamping.");
        }
        if (!IsSha2(token.TokenInfo.HashAlgorithmId.Value) || !IsSha2(token.AsSignedCms().SignerInfos[0].DigestAlgorithm.Value))
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature,
                $"The signature's time-stamp uses digest {token.TokenInfo.HashAlgorithmId.Value} or {token.AsSignedCms().SignerInfos[0].DigestAlgorithm.Value}; SHA-256, SHA-384 or SHA-512 is required.");
        }
        if (!ForTimeStampingOnly(authority))
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature,
                $"The time-stamp's authority ({authority.Subject}) has a certificate whose extended key usage is not time-stamping alone, marked critical (RFC 3161).");
        }
        DateTimeOffset time = token.TokenInfo.Timestamp;
        TimeSpan? accuracy = token.TokenInfo.AccuracyInMicroseconds is long microseconds ? TimeSpan.FromMicroseconds(microseconds) : null;
        if (accuracy > ClockSkew)
        {
            // A time this vague would stretch every check made against it (signing-time, the signer's chain, the clock).
            throw new MpcSignerException(MpcErrorReason.DocumentSignature,
                $"The signature's time-stamp is accurate only to within {accuracy.Value.TotalMinutes:0} minutes; at most {ClockSkew.TotalMinutes:0} are accepted.");
        }
        var stamp = new CadesTimestamp(time, accuracy, authority, chainValidated: false, [], token);
        if (anchors is not { Count: > 0 })
        {
            return stamp;
        }
        X509Certificate2[]? chain = BuildChain(authority, [.. included, .. Candidates(stamp)], anchors, now, TimeStampingUsageOid, out _);
        return chain is null ? stamp : new CadesTimestamp(time, accuracy, authority, chainValidated: true, chain, token);
    }

    private static X509Certificate2Collection Candidates(CadesTimestamp stamp) => stamp.Token.AsSignedCms().Certificates;

    private static bool IsSha2(string? oid) => oid is Sha256Oid or Sha384Oid or Sha512Oid;

    private static bool ForTimeStampingOnly(X509Certificate2 certificate)
    {
        X509EnhancedKeyUsageExtension[] usages = [.. certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()];
        return usages is [{ Critical: true } usage] && usage.EnhancedKeyUsages is [{ Value: TimeStampingUsageOid }];
    }

    /// <summary>SHA-384 for P-384 (and SHA-512 above), SHA-256 otherwise: the digest the curve's security level calls for.</summary>
    public static HashAlgorithmName HashFor(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.KeySize switch
        {
            > 384 => HashAlgorithmName.SHA512,
            > 256 => HashAlgorithmName.SHA384,
            _ => HashAlgorithmName.SHA256,
        };
    }

    private static HashAlgorithmName DigestByOid(string? oid) => oid switch
    {
        Sha256Oid => HashAlgorithmName.SHA256,
        Sha384Oid => HashAlgorithmName.SHA384,
        Sha512Oid => HashAlgorithmName.SHA512,
        _ => throw new MpcSignerException(MpcErrorReason.DocumentSignature, $"The signature uses digest algorithm {oid}; SHA-256, SHA-384 or SHA-512 is required."),
    };

    private static byte[] ReadOctetString(byte[] der)
    {
        try
        {
            byte[] value = System.Formats.Asn1.AsnDecoder.ReadOctetString(der, System.Formats.Asn1.AsnEncodingRules.DER, out int consumed);
            return consumed == der.Length ? value : throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The message-digest attribute is malformed.");
        }
        catch (System.Formats.Asn1.AsnContentException)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The message-digest attribute is malformed.");
        }
    }

    private static AsnEncodedData? SignedAttribute(SignerInfo signer, string oid)
    {
        foreach (CryptographicAttributeObject attribute in signer.SignedAttributes)
        {
            if (attribute.Oid.Value == oid)
            {
                // CMS allows several values per attribute; every attribute used here is single-valued.
                return attribute.Values.Count == 1
                    ? attribute.Values[0]
                    : throw new MpcSignerException(MpcErrorReason.DocumentSignature, $"The signed attribute {oid} has {attribute.Values.Count} values; exactly one is allowed.");
            }
        }
        return null;
    }

    /// <summary>
    /// The chain from <paramref name="certificate"/> to one of <paramref name="trustAnchors"/> at <paramref name="at"/>, or
    /// null and what was wrong with it (<paramref name="problems"/>).
    /// </summary>
    private static X509Certificate2[]? BuildChain(
        X509Certificate2 certificate, X509Certificate2Collection included, X509Certificate2Collection trustAnchors, DateTimeOffset at, string? usage,
        out X509ChainStatusFlags problems)
    {
        using X509Chain chain = NewChain(included, trustAnchors, at, usage);
        bool built = chain.Build(certificate);
        problems = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, status) => all | status.Status);
        return built ? [.. chain.ChainElements.Select(e => e.Certificate)] : null;
    }

    /// <summary>Why <see cref="BuildChain"/> found no chain, as ": reason; reason", or nothing when the platform gives no reason.</summary>
    private static string ChainFailure(
        X509Certificate2 certificate, X509Certificate2Collection included, X509Certificate2Collection trustAnchors, DateTimeOffset at, string? usage)
    {
        using X509Chain chain = NewChain(included, trustAnchors, at, usage);
        chain.Build(certificate);
        string reasons = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        return reasons.Length > 0 ? ": " + reasons : "";
    }

    private static X509Chain NewChain(X509Certificate2Collection included, X509Certificate2Collection trustAnchors, DateTimeOffset at, string? usage)
    {
        var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trustAnchors);
        chain.ChainPolicy.ExtraStore.AddRange(included);
        // CAdES-BES and -B-T carry no revocation data, and this verifier fetches none: said in docs/service.md.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = at.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (usage is not null)
        {
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(usage));
        }
        return chain;
    }
}

/// <summary>
/// A verified CAdES-BES (or -B-T) signature. <see cref="ChainValidated"/> says whether the signer's certificate was
/// checked against trust anchors; when false, <see cref="SignerCertificate"/> is only what the signature claims.
/// <see cref="SigningTime"/> is the signer's own claim; <see cref="Timestamp"/>, when present, is a time-stamping
/// authority's. <see cref="ChainValidatedAt"/> is when the chain was found valid: the verification time, or a trusted
/// time-stamp's latest time when the certificate is no longer valid at the verification time.
/// </summary>
public sealed record CadesVerification(
    X509Certificate2 SignerCertificate,
    IReadOnlyList<X509Certificate2> IncludedCertificates,
    DateTimeOffset? SigningTime,
    HashAlgorithmName DigestAlgorithm,
    bool ChainValidated,
    IReadOnlyList<X509Certificate2> ValidatedChain,
    CadesTimestamp? Timestamp = null,
    DateTimeOffset? ChainValidatedAt = null);

/// <summary>What <see cref="CadesSignature.AddTimestampAsync"/> returns: the CMS with the new time-stamp, and that time-stamp.</summary>
public sealed record TimestampedSignature(byte[] Signature, CadesTimestamp Timestamp);

/// <summary>
/// A verified signature time-stamp: an RFC 3161 token over the signature value, signed by <see cref="Authority"/> (a
/// certificate for time-stamping only) at <see cref="Time"/>, give or take <see cref="Accuracy"/> when the token states
/// it. <see cref="ChainValidated"/> says whether the authority was checked against time-stamp trust anchors; when false,
/// the time is only what an unchecked authority claims.
/// </summary>
public sealed record CadesTimestamp(
    DateTimeOffset Time,
    TimeSpan? Accuracy,
    X509Certificate2 Authority,
    bool ChainValidated,
    IReadOnlyList<X509Certificate2> ValidatedChain)
{
    internal CadesTimestamp(DateTimeOffset time, TimeSpan? accuracy, X509Certificate2 authority, bool chainValidated, IReadOnlyList<X509Certificate2> validatedChain, Rfc3161TimestampToken token)
        : this(time, accuracy, authority, chainValidated, validatedChain) => Token = token;

    /// <summary>The latest time the token may have been made: <see cref="Time"/> plus <see cref="Accuracy"/>.</summary>
    public DateTimeOffset LatestTime => Time + (Accuracy ?? TimeSpan.Zero);

    internal Rfc3161TimestampToken Token { get; } = null!;
}
