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
            return PrivateKeyInfo.GetInstance(ReadDer(der));
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
            encrypted = EncryptedPrivateKeyInfo.GetInstance(ReadDer(der));
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or InvalidOperationException)
        {
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName}'s encrypted private key is truncated or corrupt", e);
        }
        RequirePbkdf2(encrypted, fileName);
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
        X962Parameters? innerParameters;
        byte[]? storedPublicKey;
        byte[] octets;
        try
        {
            var structure = ECPrivateKeyStructure.GetInstance(ReadDer(der));
            innerParameters = structure.Parameters is null ? null : X962Parameters.GetInstance(structure.Parameters);
            // The optional [1] public key is parsed here, not where it is compared: a BIT STRING with pad bits
            // (not a whole number of bytes) is an IOException from BouncyCastle, which is a corrupt file.
            storedPublicKey = structure.PublicKey?.GetOctets();
            octets = structure.PrivateKey.GetOctets();
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or InvalidOperationException)
        {
            CryptographicOperations.ZeroMemory(der);
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName}'s EC private key is truncated or corrupt", e);
        }
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
                if (storedPublicKey is not null && !SamePoint(curve, storedPublicKey, q))
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
        byte[] leafPoint;
        X962Parameters? leafCurve;
        try
        {
            var leaf = X509CertificateStructure.GetInstance(ReadDer(certificates[0]));
            leafKey = leaf.SubjectPublicKeyInfo;
            subject = leaf.Subject.ToString();
            leafPoint = leafKey.PublicKey.GetOctets();
            leafCurve = leafKey.Algorithm.Algorithm.Equals(X9ObjectIdentifiers.IdECPublicKey)
                ? X962Parameters.GetOptional(leafKey.Algorithm.Parameters)
                : null;
            foreach (byte[] other in certificates.Skip(1))
            {
                X509CertificateStructure.GetInstance(ReadDer(other));
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or InvalidOperationException)
        {
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName} has a corrupt certificate", e);
        }
        EcCurve curve = EcCurve.Get(kind);
        bool matches = leafCurve is { IsNamedCurve: true }
            && CurveOfOrNull(leafCurve.NamedCurve) == kind
            && SamePoint(curve, leafPoint, q);
        if (!matches)
        {
            throw new MpcSignerException(MpcErrorReason.CertificateMismatch,
                $"{fileName}'s certificate ({subject}) is for another key than the private key in the file");
        }
        return certificates.Select(der => (ReadOnlyMemory<byte>)der).ToArray();
    }

    private static CurveKind? CurveOfOrNull(DerObjectIdentifier oid) => PublicKeyEncoding.CurveOf(oid);

    /// <summary>
    /// One DER object. BouncyCastle returns null for empty input (an empty PEM body): that is an IOException here, like
    /// any other unreadable DER, which every caller maps to a corrupt file.
    /// </summary>
    private static Asn1Object ReadDer(byte[] der) =>
        Asn1Object.FromByteArray(der) ?? throw new IOException("no DER object (empty input)");

    /// <summary>
    /// PBES2 with PBKDF2 only, checked before the password is used: BouncyCastle derives with PBKDF2 whatever the file's
    /// key derivation names (scrypt, an unknown OID), or fails with a NullReferenceException on other parameters.
    /// </summary>
    private static void RequirePbkdf2(EncryptedPrivateKeyInfo encrypted, string fileName)
    {
        AlgorithmIdentifier scheme = encrypted.EncryptionAlgorithm;
        if (!scheme.Algorithm.Equals(PkcsObjectIdentifiers.IdPbeS2))
        {
            return;
        }
        DerObjectIdentifier? kdf;
        try
        {
            kdf = PbeS2Parameters.GetInstance(scheme.Parameters)?.KeyDerivationFunc?.Algorithm;
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or InvalidOperationException)
        {
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName}'s encrypted private key has corrupt PBES2 parameters", e);
        }
        if (kdf is null)
        {
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName}'s encrypted private key has no PBES2 parameters");
        }
        if (!kdf.Equals(PkcsObjectIdentifiers.IdPbkdf2))
        {
            throw new MpcSignerException(MpcErrorReason.UnsupportedAlgorithm,
                $"{fileName}'s private key is encrypted with key derivation {kdf.Id}; only PBKDF2 is supported (PBES2)");
        }
    }
}
