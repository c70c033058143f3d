using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace Mpc.Server;

/// <summary>
/// Mutual TLS on the silo port (Redis mode): this silo's certificate with its key, and the cluster CA(s) a peer's
/// certificate must chain to. Both directions authenticate: the silo that accepts a connection requires the caller's
/// certificate, and the caller checks the acceptor's, each against the cluster CAs alone (no system roots). Host names
/// are not checked: silos reach each other by pod IP, which changes on every restart, so membership of the cluster is
/// "holds a key whose certificate a cluster CA issued" and that CA must issue certificates to signer silos only.
/// </summary>
public sealed class SiloTls : IDisposable
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private readonly X509Certificate2Collection _authorities;

    private SiloTls(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        Certificate = certificate;
        _authorities = authorities;
    }

    /// <summary>This silo's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>
    /// Reads and checks the three files of <paramref name="options"/>; throws <see cref="ServerStartupException"/> with
    /// one line per problem (a file that cannot be read or holds no PEM of its kind, a key that is not the certificate's,
    /// a certificate that is expired, not for TLS client and server use, or not issued by one of the CAs). No line
    /// carries a key's bytes or a parser's message about them.
    /// </summary>
    public static SiloTls Load(ClusterTlsOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var problems = new List<string>();
        X509Certificate2? certificate = null;
        var authorities = new X509Certificate2Collection();
        try
        {
            X509Certificate2? publicOnly = ReadCertificate(ClusterTlsOptions.CertificatePathSetting, options.CertificatePath!, problems);
            ReadAuthorities(options.CaPath!, authorities, problems);
            if (publicOnly is not null)
            {
                using (publicOnly)
                {
                    certificate = WithKey(publicOnly, options.KeyPath!, problems);
                }
            }
            if (certificate is not null)
            {
                CheckCertificate(certificate, options.CertificatePath!, authorities, time, problems);
            }
            if (problems.Count > 0)
            {
                throw new ServerStartupException(string.Join('\n', problems));
            }
            return new SiloTls(certificate!, authorities);
        }
        catch
        {
            certificate?.Dispose();
            foreach (X509Certificate2 authority in authorities)
            {
                authority.Dispose();
            }
            throw;
        }
    }

    /// <summary>Orleans' TLS options: this certificate both ways, a peer certificate required both ways and checked by <see cref="IsTrustedPeer"/>.</summary>
    public void Configure(TlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        // Orleans' default (AllowCertificate) would silently connect without a client certificate the certificate's
        // extended key usage does not allow; Load has checked it does, and this keeps it required.
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.CheckCertificateRevocation = false;
        options.RemoteCertificateValidation = (peer, presented, _) => IsTrustedPeer(peer, presented);
    }

    /// <summary>
    /// Whether <paramref name="peer"/> chains to one of the cluster CAs, with those as the only roots (the TLS layer's own
    /// verdict, made against the system's roots and the host name, is not used). Intermediates the peer sent are used to
    /// build the chain, never as anchors. No revocation check: a private cluster CA publishes no CRL; rotate the CA to
    /// withdraw a certificate (docs/operations.md, TLS).
    /// </summary>
    public bool IsTrustedPeer(X509Certificate2 peer, X509Chain? presented)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return ChainsTo(_authorities, peer, presented);
    }

    private static bool ChainsTo(X509Certificate2Collection authorities, X509Certificate2 peer, X509Chain? presented)
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
            return chain.Build(peer);
        }
        finally
        {
            foreach (X509ChainElement element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (X509Certificate2 authority in _authorities)
        {
            authority.Dispose();
        }
    }

    private static X509Certificate2? ReadCertificate(string setting, string path, List<string> problems)
    {
        if (ReadText(setting, path, problems) is not { } pem)
        {
            return null;
        }
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

    private static void ReadAuthorities(string path, X509Certificate2Collection authorities, List<string> problems)
    {
        if (ReadText(ClusterTlsOptions.CaPathSetting, path, problems) is not { } pem)
        {
            return;
        }
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
            problems.Add($"setting {ClusterTlsOptions.CaPathSetting}='{path}' holds no PEM CA certificate (-----BEGIN CERTIFICATE-----)");
        }
    }

    /// <summary>The certificate with the key of <paramref name="keyPath"/>, or null with a problem that names the file and never the key.</summary>
    private static X509Certificate2? WithKey(X509Certificate2 certificate, string keyPath, List<string> problems)
    {
        // Bytes and chars, not a string: both copies of the key's text are wiped once the key is imported.
        if (ReadFile(ClusterTlsOptions.KeyPathSetting, keyPath, problems) is not { } file)
        {
            return null;
        }
        char[] pem = [];
        try
        {
            pem = System.Text.Encoding.UTF8.GetChars(file);
            return WithKey(certificate, pem, keyPath, problems);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(file);
            CryptographicOperations.ZeroMemory(System.Runtime.InteropServices.MemoryMarshal.AsBytes(pem.AsSpan()));
        }
    }

    private static X509Certificate2? WithKey(X509Certificate2 certificate, ReadOnlySpan<char> pem, string keyPath, List<string> problems)
    {
        try
        {
            return certificate.GetKeyAlgorithm() switch
            {
                "1.2.840.10045.2.1" => WithEcdsaKey(certificate, pem),
                "1.2.840.113549.1.1.1" => WithRsaKey(certificate, pem),
                string other => Refuse($"setting {ClusterTlsOptions.CertificatePathSetting} holds a certificate for a key type this server cannot use ({other}); use an EC or RSA key"),
            };
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            // ImportFromPem: no key PEM of the type, or an encrypted one; CopyWithPrivateKey: a key that is not the
            // certificate's. The parser's own message is not repeated: it may quote the file.
            return Refuse($"setting {ClusterTlsOptions.KeyPathSetting}='{keyPath}' holds no unencrypted PEM private key " +
                $"(PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY) of the certificate in {ClusterTlsOptions.CertificatePathSetting}");
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

    private static void CheckCertificate(X509Certificate2 certificate, string path, X509Certificate2Collection authorities, TimeProvider time, List<string> problems)
    {
        string setting = $"setting {ClusterTlsOptions.CertificatePathSetting}='{path}'";
        DateTime now = time.GetUtcNow().UtcDateTime;
        if (certificate.NotAfter.ToUniversalTime() < now)
        {
            problems.Add($"{setting} holds a certificate that expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z; issue a new one");
            return;
        }
        if (certificate.NotBefore.ToUniversalTime() > now)
        {
            problems.Add($"{setting} holds a certificate valid only from {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z; check the clock or issue a new one");
            return;
        }
        // The same silo accepts connections and makes them: the certificate serves as TLS server and as TLS client.
        if (certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault() is { } usage
            && !(Allows(usage, ServerAuthentication) && Allows(usage, ClientAuthentication)))
        {
            problems.Add($"{setting} holds a certificate whose extended key usage does not allow both serverAuth and clientAuth; issue one with both");
            return;
        }
        // Peers check this silo's certificate against the same CAs: a certificate they would refuse is refused here, in one line.
        if (!ChainsTo(authorities, certificate, presented: null))
        {
            problems.Add($"{setting} holds a certificate not issued by a CA of {ClusterTlsOptions.CaPathSetting}; the other silos would refuse it");
        }
    }

    private static bool Allows(X509EnhancedKeyUsageExtension usage, string purpose) =>
        usage.EnhancedKeyUsages.Cast<Oid>().Any(oid => oid.Value == purpose);

    private static string? ReadText(string setting, string path, List<string> problems) =>
        ReadFile(setting, path, problems) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;

    private static byte[]? ReadFile(string setting, string path, List<string> problems)
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
