using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

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
            return EcPrivateKeyDecoder.FromPrivateKeyInfo(info, certificates, ImportedKeyFormat.Pkcs12, fileName);
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
                "PRIVATE KEY" => EcPrivateKeyDecoder.FromPrivateKeyInfo(EcPrivateKeyDecoder.ParsePrivateKeyInfo(keyDer, fileName), certificates, ImportedKeyFormat.Pkcs8Pem, fileName),
                "ENCRYPTED PRIVATE KEY" => EcPrivateKeyDecoder.FromPrivateKeyInfo(EcPrivateKeyDecoder.Decrypt(keyDer, password, fileName), certificates, ImportedKeyFormat.EncryptedPkcs8Pem, fileName),
                _ => EcPrivateKeyDecoder.FromSec1(keyDer, null, certificates, ImportedKeyFormat.Sec1Pem, fileName),
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

    internal static MpcSignerException Rsa(string fileName) =>
        new(MpcErrorReason.RsaKey, $"RSA keys cannot be imported yet: only EC keys on P-256, P-384 and secp256k1 ({fileName} holds an RSA key)");

    private static MpcSignerException SeveralKeys(string fileName, int count) =>
        new(MpcErrorReason.SeveralPrivateKeys,
            $"{fileName} holds {count} private keys; export the one to import into a file of its own");
}
