using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Mpc.Storage;

namespace Mpc.Server;

/// <summary>
/// The embedded mode's token issuer: an ECDSA P-256 key kept owner-only in the data directory, created on
/// first start, that signs ES256 bearer tokens for named users. For development and demos; production
/// deployments validate tokens from their own identity provider (<see cref="AuthOptions.PublicKeyFile"/>).
/// </summary>
public sealed class DevelopmentTokens : IDisposable
{
    public const string KeyFileName = "dev-token-signing-key.pem";

    private readonly ECDsa _key;

    private DevelopmentTokens(ECDsa key) => _key = key;

    public SecurityKey ValidationKey => SecurityKeyFor(_key);

    /// <summary>
    /// IdentityModel caches signature providers by key thumbprint, so a provider holding an already
    /// disposed ECDsa with the same key material could be reused (after a restart, or by a second
    /// instance). Each of our keys gets its own, uncached provider factory.
    /// </summary>
    internal static ECDsaSecurityKey SecurityKeyFor(ECDsa key) =>
        new(key) { CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } };

    /// <summary>Loads the development key from <paramref name="dataDirectory"/>, creating it if <paramref name="create"/>.</summary>
    public static DevelopmentTokens Open(string dataDirectory, bool create)
    {
        string path = Path.Combine(dataDirectory, KeyFileName);
        var key = ECDsa.Create();
        if (File.Exists(path))
        {
            ImportPem(key, path);
            return new DevelopmentTokens(key);
        }
        if (!create)
        {
            key.Dispose();
            throw new FileNotFoundException(
                $"No development token key in '{dataDirectory}'. Start 'mpc-server --data {dataDirectory}' once to create it.", path);
        }
        Directory.CreateDirectory(dataDirectory);
        key.GenerateKey(ECCurve.NamedCurves.nistP256);
        if (!WritePem(key, path))
        {
            // Another process (a second silo starting at the same moment) created it first: use theirs,
            // so every silo validates the same tokens.
            ImportPem(key, path);
        }
        return new DevelopmentTokens(key);
    }

    // The key's PEM passes through arrays that are zeroed after use, never through strings (which cannot be).
    private static void ImportPem(ECDsa key, string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        char[] text = new char[Encoding.UTF8.GetCharCount(bytes)];
        try
        {
            Encoding.UTF8.GetChars(bytes, text);
            key.ImportFromPem(text);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
            Array.Clear(text);
        }
    }

    /// <summary>Creates the key file (PKCS#8 PEM, owner-only); false when another process created it first.</summary>
    private static bool WritePem(ECDsa key, string path)
    {
        byte[] der = key.ExportPkcs8PrivateKey();
        char[] text = PemEncoding.Write("PRIVATE KEY", der);
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(text)];
        try
        {
            Encoding.UTF8.GetBytes(text, bytes);
            return DurableFile.Write(path, bytes, overwrite: false, ownerOnly: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
            Array.Clear(text);
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>An ES256 token whose subject is <paramref name="userId"/>.</summary>
    public string Mint(string userId, TimeSpan lifetime, string issuer = AuthOptions.DevelopmentIssuer, string audience = "mpc-signer", bool admin = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        List<Claim> claims = [new Claim(JwtRegisteredClaimNames.Sub, userId)];
        if (admin)
        {
            claims.Add(new Claim("scope", SignerAdminService.AdminScope));
        }
        DateTime now = DateTime.UtcNow;
        DateTime expires = now.Add(lifetime);
        // A negative lifetime (tests) makes a token that was valid once: issued before it expired.
        DateTime issued = expires < now ? expires.AddMinutes(-10) : now;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = issued,
            NotBefore = issued.AddSeconds(-5),
            Expires = expires,
            SigningCredentials = new SigningCredentials(SecurityKeyFor(_key), SecurityAlgorithms.EcdsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    public void Dispose() => _key.Dispose();
}

