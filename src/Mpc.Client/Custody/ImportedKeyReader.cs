using System.Security.Cryptography;
using System.Text;
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
/// Reads an EC key the user already has (typically issued by their certification authority) from PKCS#12
/// (.p12/.pfx, DER) or PEM ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY", optionally with
/// "CERTIFICATE" blocks). BouncyCastle does the parsing and decryption because it knows secp256k1 on every
/// platform and hands out the scalar; only P-256, P-384 and secp256k1, by their named-curve OIDs, are accepted.
/// </summary>
public static class ImportedKeyReader
{
    private const int MaxFileBytes = 1024 * 1024;

    /// <summary>
    /// Reads the one private key in <paramref name="file"/>. <paramref name="password"/> may be empty for an
    /// unencrypted key, and is ignored when the key is not encrypted. <paramref name="fileName"/> only names the
    /// file in error messages. The caller disposes the result.
    /// </summary>
    /// <exception cref="MpcSignerException">The file cannot be imported; the message says why in one line.</exception>
    public static ImportedKey Read(ReadOnlySpan<byte> file, ReadOnlySpan<char> password, string fileName = "the file")
    {
        ArgumentNullException.ThrowIfNull(fileName);
        if (file.IsEmpty)
        {
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName} is empty");
        }
        if (file.Length > MaxFileBytes)
        {
            throw new MpcSignerException(MpcErrorReason.UnrecognisedFormat, $"{fileName} is far too large to be a key file");
        }
        return file.IndexOf("-----BEGIN "u8) >= 0 ? ReadPem(file, password, fileName) : ReadPkcs12(file, password, fileName);
    }

    private static ImportedKey ReadPkcs12(ReadOnlySpan<byte> file, ReadOnlySpan<char> password, string fileName)
    {
        byte[] bytes = file.ToArray();
        char[] passwordChars = password.ToArray();
        try
        {
            Asn1Object asn1;
            try
            {
                asn1 = Asn1Object.FromByteArray(bytes);
            }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
            {
                throw file[0] == 0x30
                    ? new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName} is truncated or corrupt (not a readable PKCS#12 file)", e)
                    : new MpcSignerException(MpcErrorReason.UnrecognisedFormat, $"{fileName} is neither PKCS#12 nor PEM", e);
            }
            try
            {
                Pfx.GetInstance(asn1);
            }
            catch (Exception e) when (e is ArgumentException or InvalidCastException or InvalidOperationException)
            {
                throw new MpcSignerException(MpcErrorReason.UnrecognisedFormat, $"{fileName} is neither PKCS#12 nor PEM", e);
            }

            Pkcs12Store store = new Pkcs12StoreBuilder().Build();
            try
            {
                store.Load(new MemoryStream(bytes, writable: false), passwordChars);
            }
            catch (IOException e) when (e.Message.Contains("MAC invalid", StringComparison.Ordinal))
            {
                // The structure parsed, so a failing MAC means the password (or, rarely, a modified file inside the MAC).
                throw password.IsEmpty
                    ? new MpcSignerException(MpcErrorReason.ImportPasswordRequired, $"{fileName}'s PKCS#12 is password-protected: give its password", e)
                    : new MpcSignerException(MpcErrorReason.ImportWrongPassword, $"wrong password for {fileName}'s PKCS#12", e);
            }
            catch (Exception e) when (e is InvalidCipherTextException or CryptoException)
            {
                // No MAC, but the encrypted bag does not decrypt: again the password.
                throw password.IsEmpty
                    ? new MpcSignerException(MpcErrorReason.ImportPasswordRequired, $"{fileName}'s PKCS#12 is password-protected: give its password", e)
                    : new MpcSignerException(MpcErrorReason.ImportWrongPassword, $"wrong password for {fileName}'s PKCS#12", e);
            }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or InvalidOperationException
                or SecurityUtilityException or NotSupportedException)
            {
                throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName}'s PKCS#12 content is corrupt or uses an unsupported algorithm", e);
            }

            string[] keyAliases = store.Aliases.Where(store.IsKeyEntry).ToArray();
            if (keyAliases.Length == 0)
            {
                throw new MpcSignerException(MpcErrorReason.NoPrivateKey, $"{fileName}'s PKCS#12 holds no private key");
            }
            if (keyAliases.Length > 1)
            {
                throw SeveralKeys(fileName, keyAliases.Length);
            }
            string alias = keyAliases[0];
            List<byte[]> certificates = (store.GetCertificateChain(alias) ?? [])
                .Select(entry => entry.Certificate.GetEncoded())
                .ToList();
            PrivateKeyInfo info;
            try
            {
                info = PrivateKeyInfoFactory.CreatePrivateKeyInfo(store.GetKey(alias).Key);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                throw new MpcSignerException(MpcErrorReason.UnsupportedAlgorithm, $"{fileName}'s PKCS#12 key is of an algorithm this client cannot import", e);
            }
            return FromPrivateKeyInfo(info, certificates, ImportedKeyFormat.Pkcs12, fileName);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
            Array.Clear(passwordChars);
        }
    }

    private static ImportedKey ReadPem(ReadOnlySpan<byte> file, ReadOnlySpan<char> password, string fileName)
    {
        char[] text;
        try
        {
            var utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
            text = new char[utf8.GetCharCount(file)];
            utf8.GetChars(file, text);
        }
        catch (DecoderFallbackException e)
        {
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName} is not a text PEM file", e);
        }
        var keyBlocks = new List<(string Label, byte[] Der)>();
        var certificates = new List<byte[]>();
        try
        {
            if (text.AsSpan().IndexOf("Proc-Type: 4,ENCRYPTED") >= 0)
            {
                throw new MpcSignerException(MpcErrorReason.LegacyPemEncryption,
                    $"{fileName} uses old OpenSSL PEM encryption; convert it with 'openssl pkcs8 -topk8 -v2 aes-256-cbc'");
            }
            ReadOnlySpan<char> remaining = text;
            while (PemEncoding.TryFind(remaining, out PemFields fields))
            {
                string label = remaining[fields.Label].ToString();
                // Decoded straight from our char buffer: a base64 string of the key could not be zeroed.
                byte[] der = new byte[fields.DecodedDataLength];
                if (!Convert.TryFromBase64Chars(remaining[fields.Base64Data], der, out int written) || written != der.Length)
                {
                    CryptographicOperations.ZeroMemory(der);
                    throw new FormatException("PEM body is not base64");
                }
                switch (label)
                {
                    case "PRIVATE KEY" or "ENCRYPTED PRIVATE KEY" or "EC PRIVATE KEY":
                        keyBlocks.Add((label, der));
                        break;
                    case "RSA PRIVATE KEY":
                        CryptographicOperations.ZeroMemory(der);
                        throw Rsa(fileName);
                    case "DSA PRIVATE KEY" or "OPENSSH PRIVATE KEY":
                        CryptographicOperations.ZeroMemory(der);
                        throw new MpcSignerException(MpcErrorReason.UnsupportedAlgorithm,
                            $"{fileName} holds a {label}; only EC keys on P-256, P-384 and secp256k1 can be imported");
                    case "CERTIFICATE":
                        certificates.Add(der);
                        break;
                    default:
                        // EC PARAMETERS, PUBLIC KEY and the like carry nothing we need.
                        CryptographicOperations.ZeroMemory(der);
                        break;
                }
                remaining = remaining[fields.Location.End..];
            }
            if (keyBlocks.Count == 0)
            {
                throw text.AsSpan().IndexOf("PRIVATE KEY-----") >= 0
                    ? new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName}'s private key block is truncated or corrupt")
                    : new MpcSignerException(MpcErrorReason.NoPrivateKey, $"{fileName} holds no private key");
            }
            if (keyBlocks.Count > 1)
            {
                throw SeveralKeys(fileName, keyBlocks.Count);
            }
            (string keyLabel, byte[] keyDer) = keyBlocks[0];
            return keyLabel switch
            {
                "PRIVATE KEY" => FromPrivateKeyInfo(ParsePrivateKeyInfo(keyDer, fileName), certificates, ImportedKeyFormat.Pkcs8Pem, fileName),
                "ENCRYPTED PRIVATE KEY" => FromPrivateKeyInfo(Decrypt(keyDer, password, fileName), certificates, ImportedKeyFormat.EncryptedPkcs8Pem, fileName),
                _ => FromSec1(keyDer, null, certificates, ImportedKeyFormat.Sec1Pem, fileName),
            };
        }
        catch (FormatException e)
        {
            // PemEncoding only matches well-formed blocks, so this is a base64 body it accepted but that does not decode.
            throw new MpcSignerException(MpcErrorReason.ImportCorrupt, $"{fileName} has a corrupt PEM block", e);
        }
        finally
        {
            Array.Clear(text);
            foreach ((_, byte[] der) in keyBlocks)
            {
                CryptographicOperations.ZeroMemory(der);
            }
        }
    }

    private static PrivateKeyInfo ParsePrivateKeyInfo(byte[] der, string fileName)
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

    private static PrivateKeyInfo Decrypt(byte[] der, ReadOnlySpan<char> password, string fileName)
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

    private static ImportedKey FromPrivateKeyInfo(PrivateKeyInfo info, List<byte[]> certificates, ImportedKeyFormat format, string fileName)
    {
        DerObjectIdentifier algorithm = info.PrivateKeyAlgorithm.Algorithm;
        if (algorithm.Equals(PkcsObjectIdentifiers.RsaEncryption) || algorithm.Equals(PkcsObjectIdentifiers.IdRsassaPss))
        {
            throw Rsa(fileName);
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
    private static ImportedKey FromSec1(byte[] der, X962Parameters? outerParameters, List<byte[]> certificates, ImportedKeyFormat format, string fileName)
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
                // Not EcCurve.DecodeScalar: it copies the bytes into an array nobody zeroes.
                var d = new BigInteger(1, scalar);
                try
                {
                    curve.RequireScalar(d, "private key");
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

    private static MpcSignerException Rsa(string fileName) =>
        new(MpcErrorReason.RsaKey, $"RSA keys cannot be imported yet: only EC keys on P-256, P-384 and secp256k1 ({fileName} holds an RSA key)");

    private static MpcSignerException SeveralKeys(string fileName, int count) =>
        new(MpcErrorReason.SeveralPrivateKeys,
            $"{fileName} holds {count} private keys; export the one to import into a file of its own");
}
