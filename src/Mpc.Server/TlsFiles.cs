using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mpc.Server;

/// <summary>
/// The PEM files of a TLS set-up (a certificate, its key, the CAs a peer must chain to), read the one way every TLS
/// setting of the server reads them: each problem is one line naming the setting and the file, never a key's bytes or a
/// parser's message about them; key text is wiped once imported; chains are checked against the given CAs alone.
/// </summary>
internal static class TlsFiles
{
    /// <summary>The first certificate of <paramref name="pem"/> (the text of <paramref name="path"/>), or null with a problem.</summary>
    public static X509Certificate2? ParseCertificate(string setting, string path, string pem, List<string> problems)
    {
        try
        {
            return X509Certificate2.CreateFromPem(pem);
        }
        catch (CryptographicException)
        {
            problems.Add($"setting {setting}='{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
            return null;
        }
    }

    /// <summary>The CA certificates of <paramref name="pem"/> (the file of <paramref name="setting"/>) into <paramref name="authorities"/>, or a problem when it holds none.</summary>
    public static void ParseAuthorities(string setting, string path, string pem, X509Certificate2Collection authorities, List<string> problems)
    {
        try
        {
            authorities.ImportFromPem(pem);
        }
        catch (CryptographicException)
        {
            // Reported below as "no CA certificate".
        }
        if (authorities.Count == 0)
        {
            problems.Add($"setting {setting}='{path}' holds no PEM CA certificate (-----BEGIN CERTIFICATE-----)");
        }
    }

    /// <summary>The certificate with the key of <paramref name="keyPath"/>, or null with a problem that names the file and never the key.</summary>
    public static X509Certificate2? WithKey(X509Certificate2 certificate, string certificateSetting, string keySetting, string keyPath, List<string> problems)
    {
        // Bytes and chars, not a string: both copies of the key's text are wiped once the key is imported.
        if (ReadFile(keySetting, keyPath, problems) is not { } file)
        {
            return null;
        }
        char[] pem = [];
        try
        {
            pem = System.Text.Encoding.UTF8.GetChars(file);
            return WithKey(certificate, pem, certificateSetting, keySetting, keyPath, problems);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(file);
            CryptographicOperations.ZeroMemory(System.Runtime.InteropServices.MemoryMarshal.AsBytes(pem.AsSpan()));
        }
    }

    /// <summary>
    /// Whether <paramref name="certificate"/> chains to one of <paramref name="authorities"/>, with those as the only roots.
    /// Intermediates the peer sent are used to build the chain, never as anchors. No revocation check: a private CA
    /// publishes no CRL; rotate the CA to withdraw a certificate (docs/operations.md, TLS).
    /// </summary>
    public static bool ChainsTo(X509Certificate2Collection authorities, X509Certificate2 certificate, X509Chain? presented)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (presented is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        }
        try
        {
            return chain.Build(certificate);
        }
        finally
        {
            foreach (X509ChainElement element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    /// <summary>One line when <paramref name="certificate"/> is outside its validity period, else null.</summary>
    public static string? ValidityProblem(X509Certificate2 certificate, string setting, TimeProvider time)
    {
        DateTime now = time.GetUtcNow().UtcDateTime;
        if (certificate.NotAfter.ToUniversalTime() < now)
        {
            return $"{setting} holds a certificate that expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z; issue a new one";
        }
        if (certificate.NotBefore.ToUniversalTime() > now)
        {
            return $"{setting} holds a certificate valid only from {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z; check the clock or issue a new one";
        }
        return null;
    }

    /// <summary>The TLS server purpose of an extended key usage (RFC 5280 id-kp-serverAuth).</summary>
    public const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>The TLS client purpose of an extended key usage (RFC 5280 id-kp-clientAuth).</summary>
    public const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <summary>Whether <paramref name="certificate"/> may serve every one of <paramref name="purposes"/>: it has no extended key usage (any use), or one that lists them all.</summary>
    public static bool UsageAllows(X509Certificate2 certificate, params string[] purposes) =>
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault() is not { } usage
        || purposes.All(purpose => usage.EnhancedKeyUsages.Cast<Oid>().Any(oid => oid.Value == purpose));

    public static void Dispose(X509Certificate2Collection certificates)
    {
        foreach (X509Certificate2 certificate in certificates)
        {
            certificate.Dispose();
        }
    }

    private static X509Certificate2? WithKey(
        X509Certificate2 certificate, ReadOnlySpan<char> pem, string certificateSetting, string keySetting, string keyPath, List<string> problems)
    {
        try
        {
            return certificate.GetKeyAlgorithm() switch
            {
                "1.2.840.10045.2.1" => WithEcdsaKey(certificate, pem),
                "1.2.840.113549.1.1.1" => WithRsaKey(certificate, pem),
                string other => Refuse($"setting {certificateSetting} holds a certificate for a key type this server cannot use ({other}); use an EC or RSA key"),
            };
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            // ImportFromPem: no key PEM of the type, or an encrypted one; CopyWithPrivateKey: a key that is not the
            // certificate's. The parser's own message is not repeated: it may quote the file.
            return Refuse($"setting {keySetting}='{keyPath}' holds no unencrypted PEM private key " +
                $"(PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY) of the certificate in {certificateSetting}");
        }

        X509Certificate2? Refuse(string problem)
        {
            problems.Add(problem);
            return null;
        }
    }

    private static X509Certificate2 WithEcdsaKey(X509Certificate2 certificate, ReadOnlySpan<char> pem)
    {
        using ECDsa key = ECDsa.Create();
        key.ImportFromPem(pem);
        return certificate.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 WithRsaKey(X509Certificate2 certificate, ReadOnlySpan<char> pem)
    {
        using RSA key = RSA.Create();
        key.ImportFromPem(pem);
        return certificate.CopyWithPrivateKey(key);
    }

    public static byte[]? ReadFile(string setting, string path, List<string> problems)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            problems.Add($"setting {setting}='{path}' cannot be read: {e.Message.ReplaceLineEndings(" ")}");
            return null;
        }
    }
}
