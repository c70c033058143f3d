using System.Security.Cryptography;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using BigInteger = Org.BouncyCastle.Math.BigInteger;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Client.Custody;

/// <summary>
/// Turns the private-key structures <see cref="ImportedKeyReader"/> finds in a PKCS#12 or PEM file (PKCS#8, encrypted
/// PKCS#8, SEC1) into an <see cref="ImportedKey"/>: named curve, scalar range, the stored public key and the certificate
/// chain checked against the key.
/// </summary>
internal static class EcPrivateKeyDecoder
{
    internal static PrivateKeyInfo ParsePrivateKeyInfo(byte[] der, string fileName)
    {
        try
        {
            return PrivateKeyInfo.GetInstance(Asn1Object.FromByteArray(der));
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or InvalidOperationException)
        {
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName}'s private key is truncated or corrupt", e);
        }
    }

    internal static PrivateKeyInfo Decrypt(byte[] der, ReadOnlySpan<char> password, string fileName)
    {
        EncryptedPrivateKeyInfo encrypted;
        try
        {
            encrypted = EncryptedPrivateKeyInfo.GetInstance(Asn1Object.FromByteArray(der));
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or InvalidOperationException)
        {
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName}'s encrypted private key is truncated or corrupt", e);
        }
        if (password.IsEmpty)
        {
            throw new MpcSignerException(MpcErrorReason.ImportPasswordRequired, $"{fileName}'s private key is encrypted: give its password");
        }
        char[] passwordChars = password.ToArray();
        try
        {
            return PrivateKeyInfoFactory.CreatePrivateKeyInfo(passwordChars, encrypted);
        }
        catch (Exception e) when (e is SecurityUtilityException or NotSupportedException)
        {
            throw new MpcSignerException(MpcErrorReason.UnsupportedAlgorithm, $"{fileName}'s private key is encrypted with an algorithm this client does not support", e);
        }
        catch (Exception e) when (e is InvalidCipherTextException or CryptoException or IOException or ArgumentException or InvalidCastException or InvalidOperationException)
        {
            // The envelope parsed; garbage after decryption (bad padding, or rarely good padding over nonsense) is the password.
            throw new MpcSignerException(MpcErrorReason.ImportWrongPassword, $"wrong password for {fileName}'s encrypted private key", e);
        }
        finally
        {
            Array.Clear(passwordChars);
        }
    }

    internal static ImportedKey FromPrivateKeyInfo(PrivateKeyInfo info, List<byte[]> certificates, ImportedKeyFormat format, string fileName)
    {
        DerObjectIdentifier algorithm = info.PrivateKeyAlgorithm.Algorithm;
        if (algorithm.Equals(PkcsObjectIdentifiers.RsaEncryption) || algorithm.Equals(PkcsObjectIdentifiers.IdRsassaPss))
        {
            throw ImportedKeyReader.Rsa(fileName);
        }
        if (!algorithm.Equals(X9ObjectIdentifiers.IdECPublicKey))
        {
            string name = algorithm.Equals(EdECObjectIdentifiers.id_Ed25519) ? "Ed25519"
                : algorithm.Equals(EdECObjectIdentifiers.id_Ed448) ? "Ed448"
                : algorithm.Equals(X9ObjectIdentifiers.IdDsa) ? "DSA"
                : $"OID {algorithm.Id}";
            throw new MpcSignerException(MpcErrorReason.UnsupportedAlgorithm,
                $"{fileName} holds a {name} key; only EC keys on P-256, P-384 and secp256k1 can be imported");
        }
        X962Parameters? parameters;
        byte[] sec1;
        try
        {
            parameters = X962Parameters.GetOptional(info.PrivateKeyAlgorithm.Parameters);
            sec1 = info.PrivateKey.GetOctets();
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or InvalidOperationException)
        {
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName}'s private key is corrupt", e);
        }
        return FromSec1(sec1, parameters, certificates, format, fileName);
    }

    /// <summary>The SEC1 ECPrivateKey: curve from the PKCS#8 algorithm parameters or its own, d, and the optional public key.</summary>
    internal static ImportedKey FromSec1(byte[] der, X962Parameters? outerParameters, List<byte[]> certificates, ImportedKeyFormat format, string fileName)
    {
        ECPrivateKeyStructure structure;
        X962Parameters? innerParameters;
        try
        {
            structure = ECPrivateKeyStructure.GetInstance(Asn1Object.FromByteArray(der));
            innerParameters = structure.Parameters is null ? null : X962Parameters.GetInstance(structure.Parameters);
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or InvalidOperationException)
        {
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName}'s EC private key is truncated or corrupt", e);
        }
        byte[] octets = structure.PrivateKey.GetOctets();
        try
        {
            CurveKind kind = CurveOf(outerParameters, innerParameters, fileName);
            EcCurve curve = EcCurve.Get(kind);
            // RFC 5915 fixes the length to the order's; tolerate shorter (leading zeros dropped by some writers), never longer.
            if (octets.Length == 0 || octets.Length > curve.ScalarLength)
            {
                throw new MpcSignerException(MpcErrorReason.InconsistentKey, $"{fileName}'s private key has the wrong length for {curve.Name}");
            }
            byte[] scalar = new byte[curve.ScalarLength];
            octets.CopyTo(scalar, curve.ScalarLength - octets.Length);
            try
            {
                BigInteger d;
                try
                {
                    d = curve.DecodeScalar(scalar, "private key");
                }
                catch (MpcProtocolException e)
                {
                    throw new MpcSignerException(MpcErrorReason.InconsistentKey, $"{fileName}'s private key is outside [1, q-1] for {curve.Name}", e);
                }
                ECPoint q = curve.MultiplyBase(d);
                if (structure.PublicKey is { } stored && !SamePoint(curve, stored.GetOctets(), q))
                {
                    throw new MpcSignerException(MpcErrorReason.InconsistentKey, $"{fileName}'s stored public key does not match its private key");
                }
                IReadOnlyList<ReadOnlyMemory<byte>> chain = CheckCertificates(certificates, kind, q, fileName);
                return new ImportedKey(kind, scalar, curve.EncodePoint(q), chain, format);
            }
            catch
            {
                CryptographicOperations.ZeroMemory(scalar);
                throw;
            }
        }
        finally
        {
            // Our parse of the DER owns this array (BouncyCastle returns it without copying): clear it.
            CryptographicOperations.ZeroMemory(octets);
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>Named curves only, by OID, and exactly our three; PKCS#8's and SEC1's parameters must agree when both are present.</summary>
    private static CurveKind CurveOf(X962Parameters? outer, X962Parameters? inner, string fileName)
    {
        X962Parameters parameters = outer ?? inner
            ?? throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName}'s EC private key does not name its curve");
        if (!parameters.IsNamedCurve)
        {
            throw new MpcSignerException(MpcErrorReason.ImportUnsupportedCurve,
                $"{fileName}'s key uses explicit curve parameters; only the named curves P-256, P-384 and secp256k1 can be imported");
        }
        DerObjectIdentifier oid = parameters.NamedCurve;
        if (outer is not null && inner is not null && (!inner.IsNamedCurve || !inner.NamedCurve.Equals(oid)))
        {
            throw new MpcSignerException(MpcErrorReason.InconsistentKey, $"{fileName}'s key names two different curves");
        }
        return CurveOfOrNull(oid) ?? throw new MpcSignerException(MpcErrorReason.ImportUnsupportedCurve,
            $"{fileName}'s key is on {CurveName(oid)}; only P-256, P-384 and secp256k1 keys can be imported");
    }

    private static string CurveName(DerObjectIdentifier oid)
    {
        string? name = ECNamedCurveTable.GetName(oid);
        string? nist = NistNamedCurves.GetName(oid);
        return name is null ? $"curve OID {oid.Id}"
            : nist is not null && nist != name ? $"{name} ({nist})"
            : name;
    }

    private static bool SamePoint(EcCurve curve, byte[] encoded, ECPoint expected)
    {
        try
        {
            ECPoint point = curve.DomainParameters.Curve.DecodePoint(encoded);
            return point.Equals(expected);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The first certificate is the leaf and must certify this key on this curve; the rest are kept as found.</summary>
    private static IReadOnlyList<ReadOnlyMemory<byte>> CheckCertificates(List<byte[]> certificates, CurveKind kind, ECPoint q, string fileName)
    {
        if (certificates.Count == 0)
        {
            return [];
        }
        SubjectPublicKeyInfo leafKey;
        string subject;
        try
        {
            var leaf = X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(certificates[0]));
            leafKey = leaf.SubjectPublicKeyInfo;
            subject = leaf.Subject.ToString();
            foreach (byte[] other in certificates.Skip(1))
            {
                X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(other));
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or InvalidOperationException)
        {
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName} has a corrupt certificate", e);
        }
        EcCurve curve = EcCurve.Get(kind);
        bool matches = leafKey.Algorithm.Algorithm.Equals(X9ObjectIdentifiers.IdECPublicKey)
            && X962Parameters.GetOptional(leafKey.Algorithm.Parameters) is { IsNamedCurve: true } leafCurve
            && CurveOfOrNull(leafCurve.NamedCurve) == kind
            && SamePoint(curve, leafKey.PublicKey.GetOctets(), q);
        if (!matches)
        {
            throw new MpcSignerException(MpcErrorReason.CertificateMismatch,
                $"{fileName}'s certificate ({subject}) is for another key than the private key in the file");
        }
        return certificates.Select(der => (ReadOnlyMemory<byte>)der).ToArray();
    }

    private static CurveKind? CurveOfOrNull(DerObjectIdentifier oid) => PublicKeyEncoding.CurveOf(oid);
}
