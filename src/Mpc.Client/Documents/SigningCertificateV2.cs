using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mpc.Client.Documents;

/// <summary>
/// The ESS signing-certificate-v2 attribute (RFC 5035), which CAdES-BES requires: it binds the signature to one
/// certificate, so a second certificate for the same key (another name, another issuer) cannot be swapped in.
/// <code>
/// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies SEQUENCE OF PolicyInformation OPTIONAL }
/// ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256}, certHash OCTET STRING,
///                            issuerSerial IssuerSerial OPTIONAL }
/// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
/// </code>
/// </summary>
internal static class SigningCertificateV2
{
    public const string Oid = "1.2.840.113549.1.9.16.2.47";

    private static readonly Asn1Tag DirectoryName = new(TagClass.ContextSpecific, 4, isConstructed: true);

    /// <summary>One ESSCertIDv2 with a SHA-256 hash (so hashAlgorithm is omitted: DER leaves out a DEFAULT) and issuerSerial.</summary>
    public static byte[] Encode(X509Certificate2 certificate) =>
        Encode(certificate.RawData, certificate.IssuerName.RawData, certificate.SerialNumberBytes.Span);

    /// <summary>The same from the certificate's DER, its issuer Name (DER) and serial number (the INTEGER's content bytes).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> certificate, ReadOnlySpan<byte> issuerName, ReadOnlySpan<byte> serialNumber)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                using (writer.PushSequence())
                {
                    writer.WriteOctetString(SHA256.HashData(certificate));
                    using (writer.PushSequence())
                    {
                        using (writer.PushSequence())
                        {
                            using (writer.PushSequence(DirectoryName))
                            {
                                writer.WriteEncodedValue(issuerName);
                            }
                        }
                        writer.WriteInteger(serialNumber);
                    }
                }
            }
        }
        return writer.Encode();
    }

    /// <summary>
    /// Whether the attribute's first ESSCertIDv2 (the one RFC 5035 says identifies the signing certificate) names
    /// <paramref name="certificate"/>: its hash, and its issuer and serial number when present.
    /// </summary>
    public static bool Names(ReadOnlyMemory<byte> attributeValue, X509Certificate2 certificate)
    {
        try
        {
            var outer = new AsnReader(attributeValue, AsnEncodingRules.DER);
            AsnReader value = outer.ReadSequence();
            outer.ThrowIfNotEmpty();
            AsnReader certs = value.ReadSequence();
            if (!certs.HasData)
            {
                return false;
            }
            AsnReader id = certs.ReadSequence();
            HashAlgorithmName hash = HashAlgorithmName.SHA256;
            if (id.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
            {
                AsnReader algorithm = id.ReadSequence();
                hash = HashByOid(algorithm.ReadObjectIdentifier());
            }
            byte[] certHash = id.ReadOctetString();
            if (!CryptographicOperations.FixedTimeEquals(certHash, CryptographicOperations.HashData(hash, certificate.RawData)))
            {
                return false;
            }
            if (!id.HasData)
            {
                return true;
            }
            AsnReader issuerSerial = id.ReadSequence();
            AsnReader names = issuerSerial.ReadSequence();
            bool issuerMatches = false;
            while (names.HasData)
            {
                if (names.PeekTag().HasSameClassAndValue(DirectoryName))
                {
                    AsnReader name = names.ReadSequence(DirectoryName);
                    issuerMatches |= name.ReadEncodedValue().Span.SequenceEqual(certificate.IssuerName.RawData);
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
            ReadOnlyMemory<byte> serial = issuerSerial.ReadIntegerBytes();
            return issuerMatches && serial.Span.SequenceEqual(certificate.SerialNumberBytes.Span);
        }
        catch (AsnContentException)
        {
            return false;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static HashAlgorithmName HashByOid(string oid) => oid switch
    {
        "2.16.840.1.101.3.4.2.1" => HashAlgorithmName.SHA256,
        "2.16.840.1.101.3.4.2.2" => HashAlgorithmName.SHA384,
        "2.16.840.1.101.3.4.2.3" => HashAlgorithmName.SHA512,
        _ => throw new CryptographicException("Unsupported certificate hash algorithm."),
    };
}
