using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace Mpc.Client.Tests.Documents;

/// <summary>
/// Time-stamp tokens and authority certificates made by hand with .NET's CMS types, so that a test can set what a real
/// authority never would: a time in the past or future, an accuracy, an expired certificate, extra key usages, SHA-1.
/// </summary>
internal static class HandMadeTimestamps
{
    public const string TimeStamping = "1.3.6.1.5.5.7.3.8";

    public static X509Certificate2 Ca(string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        return request.CreateSelfSigned(notBefore, notAfter);
    }

    /// <summary>An authority certificate issued by <paramref name="ca"/>, with these extended key usages (critical).</summary>
    public static X509Certificate2 Authority(X509Certificate2 ca, string name, DateTimeOffset notBefore, DateTimeOffset notAfter, params string[] usages)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var oids = new OidCollection();
        foreach (string usage in usages.Length > 0 ? usages : [TimeStamping])
        {
            oids.Add(new Oid(usage));
        }
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, critical: true));
        using X509Certificate2 issued = request.Create(ca, notBefore, notAfter, RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>A token over <paramref name="signatureValue"/> at <paramref name="time"/>, signed by <paramref name="authority"/> (its key included).</summary>
    public static byte[] Token(X509Certificate2 authority, byte[] signatureValue, DateTimeOffset time, long? accuracyMicroseconds = null, bool sha1 = false)
    {
        HashAlgorithmName digest = sha1 ? HashAlgorithmName.SHA1 : HashAlgorithmName.SHA256;
        string digestOid = sha1 ? "1.3.14.3.2.26" : "2.16.840.1.101.3.4.2.1";
        var info = new Rfc3161TimestampTokenInfo(new Oid("1.3.6.1.4.1.99999.1"), new Oid(digestOid),
            CryptographicOperations.HashData(digest, signatureValue), PositiveSerial(), time, accuracyMicroseconds);
        var cms = new SignedCms(new ContentInfo(new Oid("1.2.840.113549.1.9.16.1.4"), info.Encode()), detached: false);
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, authority)
        {
            DigestAlgorithm = new Oid(digestOid),
            IncludeOption = X509IncludeOption.EndCertOnly,
        };
        // signing-certificate-v2 (ESSCertIDv2, SHA-256 by default): names the authority's certificate.
        var names = new AsnWriter(AsnEncodingRules.DER);
        using (names.PushSequence())
        using (names.PushSequence())
        using (names.PushSequence())
        {
            names.WriteOctetString(SHA256.HashData(authority.RawData));
        }
        signer.SignedAttributes.Add(new AsnEncodedData("1.2.840.113549.1.9.16.2.47", names.Encode()));
        cms.ComputeSignature(signer);
        return cms.Encode();
    }

    /// <summary>
    /// A random positive serial number in minimal DER form: Rfc3161TimestampTokenInfo writes the bytes as the INTEGER's
    /// contents and refuses a redundant leading byte, which 8 plain random bytes have once in 256 tokens.
    /// </summary>
    private static byte[] PositiveSerial()
    {
        byte[] serial = RandomNumberGenerator.GetBytes(8);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }

    public static byte[] SignatureValue(byte[] document, byte[] cms) => Decode(document, cms).SignerInfos[0].GetSignature();

    public static byte[] WithToken(byte[] document, byte[] cms, byte[] token)
    {
        SignedCms signed = Decode(document, cms);
        signed.SignerInfos[0].AddUnsignedAttribute(new AsnEncodedData("1.2.840.113549.1.9.16.2.14", token));
        return signed.Encode();
    }

    public static SignedCms Decode(byte[] document, byte[] cms)
    {
        var signed = new SignedCms(new ContentInfo(document), detached: true);
        signed.Decode(cms);
        return signed;
    }
}
