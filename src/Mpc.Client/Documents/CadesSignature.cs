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
    /// Verifies a detached CAdES-BES signature over <paramref name="document"/>: the message digest, the signature
    /// value under the signer's certificate, and that signing-certificate-v2 names that certificate. With
    /// <paramref name="trustAnchors"/> the signer's certificate must also chain to one of them at
    /// <paramref name="verificationTime"/> (default now; revocation is not checked). Without them nothing about
    /// who the signer is has been established: <see cref="CadesVerification.ChainValidated"/> is false.
    /// Throws <see cref="MpcSignerException"/> on any failure.
    /// </summary>
    public static CadesVerification Verify(ReadOnlySpan<byte> document, ReadOnlySpan<byte> signature, X509Certificate2Collection? trustAnchors = null, DateTimeOffset? verificationTime = null)
    {
        var cms = new SignedCms(new ContentInfo(document.ToArray()), detached: true);
        try
        {
            cms.Decode(signature);
        }
        catch (CryptographicException)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The signature is not a DER CMS SignedData.");
        }
        if (cms.SignerInfos.Count != 1)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, $"The signature has {cms.SignerInfos.Count} signers; exactly one is supported.");
        }
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

        IReadOnlyList<X509Certificate2> validatedChain = [];
        if (trustAnchors is { Count: > 0 })
        {
            validatedChain = BuildChain(certificate, cms.Certificates, trustAnchors, verificationTime ?? DateTimeOffset.UtcNow);
        }
        return new CadesVerification(certificate, [.. cms.Certificates], signingTime, digestAlgorithm, trustAnchors is { Count: > 0 }, validatedChain);
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

    private static X509Certificate2[] BuildChain(X509Certificate2 certificate, X509Certificate2Collection included, X509Certificate2Collection trustAnchors, DateTimeOffset at)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trustAnchors);
        chain.ChainPolicy.ExtraStore.AddRange(included);
        // CAdES-BES carries no revocation data, and this verifier fetches none: said in docs/service.md.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = at.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (!chain.Build(certificate))
        {
            string reasons = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, 
                $"The signature's certificate ({certificate.Subject}) is not trusted by the given trust anchors{(reasons.Length > 0 ? ": " + reasons : "")}.");
        }
        return [.. chain.ChainElements.Select(e => e.Certificate)];
    }
}

/// <summary>
/// A verified CAdES-BES signature. <see cref="ChainValidated"/> says whether the signer's certificate was checked
/// against trust anchors; when false, <see cref="SignerCertificate"/> is only what the signature claims.
/// </summary>
public sealed record CadesVerification(
    X509Certificate2 SignerCertificate,
    IReadOnlyList<X509Certificate2> IncludedCertificates,
    DateTimeOffset? SigningTime,
    HashAlgorithmName DigestAlgorithm,
    bool ChainValidated,
    IReadOnlyList<X509Certificate2> ValidatedChain);
