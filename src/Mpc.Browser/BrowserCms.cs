using System.Security.Cryptography;
using Mpc.Crypto.Curves;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Cms;
using Org.BouncyCastle.Asn1.Ess;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.X509;
using PkcsObjectIdentifiers = Org.BouncyCastle.Asn1.Pkcs.PkcsObjectIdentifiers;
using Time = Org.BouncyCastle.Asn1.Cms.Time;
using Org.BouncyCastle.Asn1.X9;
using Attribute = Org.BouncyCastle.Asn1.Cms.Attribute;

namespace Mpc.Browser;

/// <summary>
/// Detached CMS SignedData, CAdES-BES attributes (content-type, message-digest, signing-time, signing-certificate-v2),
/// the same structure the SDK's <c>CadesSignature</c> writes, built with BouncyCastle's ASN.1 types because .NET in
/// browser WebAssembly has neither <c>SignedCms</c> nor <c>X509Certificate2</c>. It is built in two halves so the
/// two-party signature runs asynchronously between them (a blocking <c>ECDsa.SignHash</c> would deadlock the
/// worker's one thread): <see cref="SignedAttributes"/> gives the bytes to sign, <see cref="Assemble"/> the CMS.
/// </summary>
internal sealed class BrowserCms
{
    private readonly X509CertificateStructure[] _chain;
    private readonly Asn1Set _signedAttributes;
    private readonly AlgorithmIdentifier _digest;
    private readonly DerObjectIdentifier _signatureAlgorithm;

    /// <param name="document">The document (not embedded: the CMS is detached).</param>
    /// <param name="curve">The key's curve: SHA-384 on P-384, SHA-256 otherwise, as the SDK's signing hashes.</param>
    /// <param name="subjectPublicKeyInfo">The key's public key; the leaf certificate must be for it.</param>
    /// <param name="chain">DER certificates, the signer's first.</param>
    /// <param name="signingTime">The signing-time attribute.</param>
    public BrowserCms(ReadOnlySpan<byte> document, CurveKind curve, byte[] subjectPublicKeyInfo, IReadOnlyList<byte[]> chain, DateTimeOffset signingTime)
    {
        if (chain.Count == 0)
        {
            throw new ArgumentException("A CMS signature needs the signer's certificate; none was given.", nameof(chain));
        }
        _chain = chain.Select(der => X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(der))).ToArray();
        if (!_chain[0].SubjectPublicKeyInfo.GetDerEncoded().AsSpan().SequenceEqual(subjectPublicKeyInfo))
        {
            throw new ArgumentException($"The certificate {_chain[0].Subject} is not for this key: its public key differs.", nameof(chain));
        }
        bool sha384 = curve == CurveKind.P384;
        _digest = new AlgorithmIdentifier(sha384 ? NistObjectIdentifiers.IdSha384 : NistObjectIdentifiers.IdSha256);
        _signatureAlgorithm = sha384 ? X9ObjectIdentifiers.ECDsaWithSha384 : X9ObjectIdentifiers.ECDsaWithSha256;
        byte[] messageDigest = sha384 ? SHA384.HashData(document) : SHA256.HashData(document);
        X509CertificateStructure leaf = _chain[0];
        var signingCertificate = new SigningCertificateV2(new EssCertIDv2(
            SHA256.HashData(leaf.GetDerEncoded()),
            new IssuerSerial(new GeneralNames(new GeneralName(leaf.Issuer)), leaf.SerialNumber)));
        _signedAttributes = new DerSet(new Asn1EncodableVector(
            new Attribute(CmsAttributes.ContentType, new DerSet(CmsObjectIdentifiers.Data)),
            new Attribute(CmsAttributes.SigningTime, new DerSet(new Time(signingTime.UtcDateTime))),
            new Attribute(CmsAttributes.MessageDigest, new DerSet(new DerOctetString(messageDigest))),
            new Attribute(PkcsObjectIdentifiers.IdAASigningCertificateV2, new DerSet(signingCertificate))));
    }

    /// <summary>The DER SET OF signed attributes: what the signature is over (RFC 5652 §5.4).</summary>
    public byte[] SignedAttributes => _signedAttributes.GetEncoded(Asn1Encodable.Der);

    /// <summary>The CMS ContentInfo (DER) with <paramref name="derSignature"/>, the ECDSA signature of <see cref="SignedAttributes"/>.</summary>
    public byte[] Assemble(byte[] derSignature)
    {
        X509CertificateStructure leaf = _chain[0];
        var signer = new SignerInfo(
            new SignerIdentifier(new IssuerAndSerialNumber(leaf.Issuer, leaf.SerialNumber)),
            _digest,
            _signedAttributes,
            new AlgorithmIdentifier(_signatureAlgorithm),
            new DerOctetString(derSignature),
            null);
        var signedData = new SignedData(
            new DerSet(_digest),
            new ContentInfo(CmsObjectIdentifiers.Data, null),
            new DerSet(_chain.Cast<Asn1Encodable>().ToArray()),
            null,
            new DerSet(signer));
        return new ContentInfo(CmsObjectIdentifiers.SignedData, signedData).GetEncoded(Asn1Encodable.Der);
    }
}
