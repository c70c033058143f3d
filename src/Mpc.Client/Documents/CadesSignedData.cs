using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mpc.Client.Documents;

/// <summary>
/// The SDK's one CMS SignedData builder (RFC 5652), detached, with the CAdES-BES signed attributes content-type,
/// signing-time, message-digest and signing-certificate-v2, written with <see cref="AsnWriter"/> from the certificates'
/// DER bytes. Built in two halves so that the signature can run between them however the caller signs:
/// <see cref="CadesSignature.Sign(ReadOnlySpan{byte}, ECDsa, IReadOnlyList{X509Certificate2}, DateTimeOffset?)"/>
/// through an <see cref="ECDsa"/>, the browser client asynchronously (.NET in browser WebAssembly has neither
/// <c>SignedCms</c> nor <c>X509Certificate2</c>, and a blocking <c>SignHash</c> would deadlock its one thread).
/// </summary>
internal sealed class CadesSignedData
{
    private const string DataOid = "1.2.840.113549.1.7.1";
    private const string SignedDataOid = "1.2.840.113549.1.7.2";
    private const string ContentTypeOid = "1.2.840.113549.1.9.3";
    private const string MessageDigestOid = "1.2.840.113549.1.9.4";
    private const string SigningTimeOid = "1.2.840.113549.1.9.5";

    private readonly byte[][] _chain;
    private readonly SignerCertificate _signer;
    private readonly string _digestOid;
    private readonly string _signatureOid;

    /// <param name="document">The document (not embedded: the CMS is detached).</param>
    /// <param name="digest">SHA-256, SHA-384 or SHA-512: the document's digest and the signature's.</param>
    /// <param name="subjectPublicKeyInfo">The signing key's public key; the first certificate must be for it.</param>
    /// <param name="chain">DER certificates, the signer's first, then its issuers.</param>
    /// <param name="signingTime">The signing-time attribute (whole seconds).</param>
    /// <exception cref="MpcSignerException"><see cref="MpcErrorReason.DocumentSignature"/>: no certificate, one that does not parse, one for another key, or one not valid at <paramref name="signingTime"/>.</exception>
    public CadesSignedData(ReadOnlySpan<byte> document, HashAlgorithmName digest, ReadOnlySpan<byte> subjectPublicKeyInfo, IReadOnlyList<byte[]> chain, DateTimeOffset signingTime)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (chain.Count == 0)
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, "A CMS signature needs the signer's certificate; the certificate chain is empty.");
        }
        (_digestOid, _signatureOid) = digest.Name switch
        {
            "SHA256" => (CadesSignature.Sha256Oid, "1.2.840.10045.4.3.2"),
            "SHA384" => (CadesSignature.Sha384Oid, "1.2.840.10045.4.3.3"),
            "SHA512" => (CadesSignature.Sha512Oid, "1.2.840.10045.4.3.4"),
            _ => throw new ArgumentException($"Digest {digest.Name} is not used for CMS signatures here (SHA-256, SHA-384, SHA-512).", nameof(digest)),
        };
        DigestAlgorithm = digest;
        _chain = [.. chain.Select(c => (byte[])c.Clone())];
        _signer = SignerCertificate.Read(_chain[0]);
        if (!_signer.SubjectPublicKeyInfo.Span.SequenceEqual(subjectPublicKeyInfo))
        {
            throw new MpcSignerException(MpcErrorReason.DocumentSignature, $"The certificate {_signer.SubjectText} is not for this key: its public key differs.");
        }
        // Every verifier refuses a signing time outside the certificate's validity, and signing-certificate-v2 would
        // commit the signature to it for good: a stale certificate (the server returns the stored chain, and could
        // return an older one for the same key) is refused before the key signs anything.
        _signer.RequireValidAt(signingTime);

        byte[] messageDigest = CryptographicOperations.HashData(digest, document);
        var attributes = new AsnWriter(AsnEncodingRules.DER);
        // DER sorts the SET OF when it is closed, as RFC 5652 requires of the signed attributes.
        using (attributes.PushSetOf())
        {
            WriteAttribute(attributes, ContentTypeOid, value => value.WriteObjectIdentifier(DataOid));
            WriteAttribute(attributes, SigningTimeOid, value => WriteTime(value, signingTime));
            WriteAttribute(attributes, MessageDigestOid, value => value.WriteOctetString(messageDigest));
            WriteAttribute(attributes, SigningCertificateV2.Oid, value => value.WriteEncodedValue(
                SigningCertificateV2.Encode(_chain[0], _signer.Issuer.Span, _signer.SerialNumber.Span)));
        }
        SignedAttributes = attributes.Encode();
    }

    /// <summary>The digest algorithm of the document and of the signature.</summary>
    public HashAlgorithmName DigestAlgorithm { get; }

    /// <summary>The DER SET OF signed attributes: what the signature is over (RFC 5652 §5.4).</summary>
    public byte[] SignedAttributes { get; }

    /// <summary>The digest of <see cref="SignedAttributes"/> that the ECDSA signature signs.</summary>
    public byte[] DigestToSign => CryptographicOperations.HashData(DigestAlgorithm, SignedAttributes);

    /// <summary>The CMS ContentInfo (DER) around <paramref name="derSignature"/>, the ECDSA signature (DER) of <see cref="DigestToSign"/>.</summary>
    public byte[] Assemble(ReadOnlySpan<byte> derSignature)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(SignedDataOid);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            using (writer.PushSequence())
            {
                writer.WriteInteger(1); // issuerAndSerialNumber and id-data content: version 1
                using (writer.PushSetOf())
                {
                    WriteAlgorithm(writer, _digestOid);
                }
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(DataOid); // detached: no eContent
                }
                using (writer.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                {
                    foreach (byte[] certificate in _chain)
                    {
                        writer.WriteEncodedValue(certificate);
                    }
                }
                using (writer.PushSetOf())
                using (writer.PushSequence())
                {
                    writer.WriteInteger(1);
                    using (writer.PushSequence())
                    {
                        writer.WriteEncodedValue(_signer.Issuer.Span);
                        writer.WriteInteger(_signer.SerialNumber.Span);
                    }
                    WriteAlgorithm(writer, _digestOid);
                    // The same SET OF, under [0] IMPLICIT: only the tag differs from the bytes that were signed.
                    byte[] implicitAttributes = (byte[])SignedAttributes.Clone();
                    implicitAttributes[0] = 0xA0;
                    writer.WriteEncodedValue(implicitAttributes);
                    WriteAlgorithm(writer, _signatureOid);
                    writer.WriteOctetString(derSignature);
                }
            }
        }
        return writer.Encode();
    }

    private static void WriteAttribute(AsnWriter writer, string oid, Action<AsnWriter> writeValue)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            using (writer.PushSetOf())
            {
                writeValue(writer);
            }
        }
    }

    /// <summary>An AlgorithmIdentifier without parameters (absent for the SHA-2 digests and for ecdsa-with-SHA*, RFC 5754 and 5758).</summary>
    private static void WriteAlgorithm(AsnWriter writer, string oid)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
        }
    }

    /// <summary>UTCTime from 1950 to 2049, GeneralizedTime otherwise (RFC 5652 §11.3), in whole seconds.</summary>
    private static void WriteTime(AsnWriter writer, DateTimeOffset time)
    {
        DateTimeOffset utc = time.ToUniversalTime();
        if (utc.Year is >= 1950 and < 2050)
        {
            writer.WriteUtcTime(utc);
        }
        else
        {
            writer.WriteGeneralizedTime(utc, omitFractionalSeconds: true);
        }
    }

    /// <summary>The fields of the signer's certificate the CMS names: issuer, serial number, subject and public key, read from its DER.</summary>
    private sealed record SignerCertificate(
        ReadOnlyMemory<byte> Issuer, ReadOnlyMemory<byte> SerialNumber, DateTimeOffset NotBefore, DateTimeOffset NotAfter,
        ReadOnlyMemory<byte> Subject, ReadOnlyMemory<byte> SubjectPublicKeyInfo)
    {
        private static readonly Asn1Tag Version = new(TagClass.ContextSpecific, 0, isConstructed: true);

        public static SignerCertificate Read(byte[] der)
        {
            try
            {
                var reader = new AsnReader(der, AsnEncodingRules.DER);
                AsnReader certificate = reader.ReadSequence();
                reader.ThrowIfNotEmpty();
                AsnReader tbs = certificate.ReadSequence();
                if (tbs.PeekTag().HasSameClassAndValue(Version))
                {
                    tbs.ReadEncodedValue();
                }
                ReadOnlyMemory<byte> serial = tbs.ReadIntegerBytes();
                tbs.ReadEncodedValue(); // signature algorithm
                ReadOnlyMemory<byte> issuer = tbs.ReadEncodedValue();
                AsnReader validity = tbs.ReadSequence();
                DateTimeOffset notBefore = ReadTime(validity), notAfter = ReadTime(validity);
                validity.ThrowIfNotEmpty();
                ReadOnlyMemory<byte> subject = tbs.ReadEncodedValue();
                ReadOnlyMemory<byte> subjectPublicKeyInfo = tbs.ReadEncodedValue();
                return new SignerCertificate(issuer, serial, notBefore, notAfter, subject, subjectPublicKeyInfo);
            }
            catch (AsnContentException e)
            {
                throw new MpcSignerException(MpcErrorReason.DocumentSignature, "The signer's certificate is not a DER X.509 certificate.", e);
            }
        }

        /// <summary>Refuses a signing time (as written: whole seconds) outside [notBefore, notAfter] (RFC 5280 §4.1.2.5).</summary>
        public void RequireValidAt(DateTimeOffset signingTime)
        {
            DateTimeOffset utc = signingTime.ToUniversalTime();
            DateTimeOffset written = new(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
            if (written < NotBefore)
            {
                throw new MpcSignerException(MpcErrorReason.DocumentSignature,
                    $"The certificate {SubjectText} is not valid yet (from {NotBefore:u}); a signature made at {written:u} would not verify.");
            }
            if (written > NotAfter)
            {
                throw new MpcSignerException(MpcErrorReason.DocumentSignature,
                    $"The certificate {SubjectText} expired at {NotAfter:u}; a signature made at {written:u} would not verify: store or pass a current certificate.");
            }
        }

        /// <summary>UTCTime (years 1950 to 2049) or GeneralizedTime, as RFC 5280 allows in a validity.</summary>
        private static DateTimeOffset ReadTime(AsnReader validity) =>
            validity.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime)
                ? validity.ReadUtcTime(twoDigitYearMax: 2049)
                : validity.ReadGeneralizedTime();

        /// <summary>The subject as text for messages ("CN=..."), or a placeholder where the platform cannot format names (browser WebAssembly).</summary>
        public string SubjectText
        {
            get
            {
                try
                {
                    return new X500DistinguishedName(Subject.Span).Name;
                }
                catch (Exception e) when (e is PlatformNotSupportedException or TypeInitializationException or CryptographicException)
                {
                    return "(the signer's certificate)";
                }
            }
        }
    }
}
