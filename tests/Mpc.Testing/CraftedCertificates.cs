using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mpc.Testing;

/// <summary>
/// Certificate chains as a hostile client could send them: real signatures where the check under test needs one,
/// crafted fields (a key no one holds, a signature value no signer made) where it looks. Built with .NET's
/// <see cref="CertificateRequest"/> and <see cref="AsnWriter"/>, not with the BouncyCastle code the server checks with.
/// </summary>
public static class CraftedCertificates
{
    private const string RsaEncryptionOid = "1.2.840.113549.1.1.1";

    /// <summary>A certificate for <paramref name="subjectKey"/> in <paramref name="issuer"/>'s name, signed by <paramref name="signer"/>.</summary>
    public static byte[] Issue(string subject, PublicKey subjectKey, string issuer, X509SignatureGenerator signer)
    {
        var request = new CertificateRequest(new X500DistinguishedName(subject), subjectKey, HashAlgorithmName.SHA256);
        using X509Certificate2 certificate = request.Create(
            new X500DistinguishedName(issuer), signer, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(16));
        return certificate.RawData;
    }

    /// <summary>A self-signed certificate for <paramref name="subjectKey"/>, signed by <paramref name="signer"/> (which need not hold that key).</summary>
    public static byte[] SelfIssued(string subject, PublicKey subjectKey, X509SignatureGenerator signer) => Issue(subject, subjectKey, subject, signer);

    /// <summary>An RSA public key with any modulus and exponent (rsaEncryption SubjectPublicKeyInfo), valid or not.</summary>
    public static PublicKey RsaPublicKey(System.Numerics.BigInteger modulus, System.Numerics.BigInteger exponent)
    {
        var key = new AsnWriter(AsnEncodingRules.DER);
        using (key.PushSequence())
        {
            key.WriteInteger(modulus);
            key.WriteInteger(exponent);
        }
        var spki = new AsnWriter(AsnEncodingRules.DER);
        using (spki.PushSequence())
        {
            using (spki.PushSequence())
            {
                spki.WriteObjectIdentifier(RsaEncryptionOid);
                spki.WriteNull();
            }
            spki.WriteBitString(key.Encode());
        }
        return PublicKey.CreateFromSubjectPublicKeyInfo(spki.Encode(), out _);
    }

    /// <summary>
    /// An odd number of exactly <paramref name="bits"/> bits without a factor below 1000, so that BouncyCastle's
    /// cheap checks pass it on to the costly Miller-Rabin test (as a real modulus of that size would be).
    /// </summary>
    public static System.Numerics.BigInteger ModulusWithoutSmallFactors(int bits)
    {
        System.Numerics.BigInteger smallPrimes = 1;
        for (int p = 3; p < 1000; p += 2)
        {
            if (Enumerable.Range(2, p - 2).All(d => d * d > p || p % d != 0))
            {
                smallPrimes *= p;
            }
        }
        while (true)
        {
            byte[] bytes = RandomNumberGenerator.GetBytes(bits / 8);
            bytes[0] |= 0x80;
            bytes[^1] |= 0x01;
            var candidate = new System.Numerics.BigInteger(bytes, isUnsigned: true, isBigEndian: true);
            if (System.Numerics.BigInteger.GreatestCommonDivisor(candidate, smallPrimes).IsOne)
            {
                return candidate;
            }
        }
    }

    /// <summary><paramref name="certificate"/> with its signature value replaced, the signed part untouched.</summary>
    public static byte[] WithSignatureValue(byte[] certificate, byte[] signatureValue)
    {
        AsnReader outer = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence();
        ReadOnlyMemory<byte> toBeSigned = outer.ReadEncodedValue();
        ReadOnlyMemory<byte> algorithm = outer.ReadEncodedValue();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(toBeSigned.Span);
            writer.WriteEncodedValue(algorithm.Span);
            writer.WriteBitString(signatureValue);
        }
        return writer.Encode();
    }
}
