using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.Tokens;

namespace Mpc.Server;

/// <summary>The identity provider's static public key: an EC or RSA key (or certificate) in PEM.</summary>
internal static class TokenSigningKeys
{
    private const int MinimumRsaBits = 2048;

    /// <summary>
    /// Reads <paramref name="path"/>; every failure is one line naming <paramref name="setting"/> and the file
    /// (a PEM parser's "Key is not a valid public or private key" alone tells an operator nothing).
    /// </summary>
    public static SecurityKey LoadPublicKey(string path, string setting)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InvalidOperationException($"{setting}: cannot read '{path}' ({e.Message}).", e);
        }
        if (!PemEncoding.TryFind(pem, out PemFields fields))
        {
            throw Refused(setting, path, "holds no PEM block; expected -----BEGIN PUBLIC KEY----- (EC or RSA) or -----BEGIN CERTIFICATE-----");
        }
        string label = pem[fields.Label];
        try
        {
            return label switch
            {
                "PUBLIC KEY" => FromSubjectPublicKeyInfo(pem, Convert.FromBase64String(pem[fields.Base64Data]), setting, path),
                "RSA PUBLIC KEY" => Rsa(ImportRsa(pem), setting, path),
                "CERTIFICATE" => FromCertificate(pem, setting, path),
                "PRIVATE KEY" or "EC PRIVATE KEY" or "RSA PRIVATE KEY" or "ENCRYPTED PRIVATE KEY" =>
                    throw Refused(setting, path, "holds a private key; give the server only the identity provider's public key (openssl pkey -pubout)"),
                _ => throw Refused(setting, path, $"holds a PEM '{label}'; expected PUBLIC KEY (EC or RSA) or CERTIFICATE"),
            };
        }
        catch (Exception e) when (e is CryptographicException or System.Formats.Asn1.AsnContentException or FormatException)
        {
            throw Refused(setting, path, $"holds a {label} that cannot be read as an EC or RSA public key ({e.Message})");
        }
    }

    private static SecurityKey FromSubjectPublicKeyInfo(string pem, byte[] der, string setting, string path)
    {
        string algorithm = PublicKeyAlgorithm(der);
        return algorithm switch
        {
            Oids.EcPublicKey => Ec(ImportEc(pem)),
            Oids.Rsa => Rsa(ImportRsa(pem), setting, path),
            _ => throw Refused(setting, path, $"holds a public key of algorithm {algorithm}; expected EC (ES256/ES384) or RSA (RS256, PS256)"),
        };
    }

    private static SecurityKey FromCertificate(string pem, string setting, string path)
    {
        using X509Certificate2 certificate = X509Certificate2.CreateFromPem(pem);
        if (certificate.GetECDsaPublicKey() is { } ec)
        {
            return Ec(ec);
        }
        if (certificate.GetRSAPublicKey() is { } rsa)
        {
            return Rsa(rsa, setting, path);
        }
        throw Refused(setting, path, "holds a certificate whose key is neither EC nor RSA");
    }

    private static string PublicKeyAlgorithm(byte[] subjectPublicKeyInfo)
    {
        var reader = new System.Formats.Asn1.AsnReader(subjectPublicKeyInfo, System.Formats.Asn1.AsnEncodingRules.DER);
        System.Formats.Asn1.AsnReader spki = reader.ReadSequence();
        return spki.ReadSequence().ReadObjectIdentifier();
    }

    private static ECDsa ImportEc(string pem)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(pem);
        return key;
    }

    private static RSA ImportRsa(string pem)
    {
        var key = RSA.Create();
        key.ImportFromPem(pem);
        return key;
    }

    /// <summary>
    /// IdentityModel caches signature providers by key thumbprint, so a provider holding an already disposed key
    /// object with the same key material could be reused (after a restart, or by a second instance): uncached.
    /// </summary>
    private static SecurityKey Ec(ECDsa key) => DevelopmentTokens.SecurityKeyFor(key);

    private static SecurityKey Rsa(RSA key, string setting, string path)
    {
        if (key.KeySize < MinimumRsaBits)
        {
            int bits = key.KeySize;
            key.Dispose();
            throw Refused(setting, path, $"holds a {bits}-bit RSA key; at least {MinimumRsaBits} bits are required");
        }
        return new RsaSecurityKey(key) { CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } };
    }

    private static InvalidOperationException Refused(string setting, string path, string why) => new($"{setting}: '{path}' {why}.");

    private static class Oids
    {
        public const string EcPublicKey = "1.2.840.10045.2.1";
        public const string Rsa = "1.2.840.113549.1.1.1";
    }
}
