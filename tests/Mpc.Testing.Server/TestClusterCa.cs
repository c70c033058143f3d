using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mpc.Server;

namespace Mpc.Testing;

/// <summary>One silo's TLS files, as an operator writes them (PEM certificate, PEM key, PEM CA bundle).</summary>
public sealed record SiloTlsFiles(string CertificatePath, string KeyPath, string CaPath)
{
    /// <summary>The three settings, as environment variables for a spawned `mpc-server`.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        [ClusterTlsOptions.CertificatePathSetting] = CertificatePath,
        [ClusterTlsOptions.KeyPathSetting] = KeyPath,
        [ClusterTlsOptions.CaPathSetting] = CaPath,
    };

    /// <summary>The three settings, on options built in code.</summary>
    public void ApplyTo(ClusterOptions cluster)
    {
        cluster.Tls.CertificatePath = CertificatePath;
        cluster.Tls.KeyPath = KeyPath;
        cluster.Tls.CaPath = CaPath;
    }
}

/// <summary>
/// A cluster CA for tests, made with <see cref="CertificateRequest"/> (no openssl): its PEM certificate in a directory,
/// and silo certificates it issues (EC P-256, serverAuth and clientAuth, one day), each with its own key file.
/// </summary>
public sealed class TestClusterCa : IDisposable
{
    private readonly string _directory;
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _certificate;

    public TestClusterCa(string directory, string name = "mpc-test-cluster-ca")
    {
        _directory = Directory.CreateDirectory(directory).FullName;
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        _certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));
        CaPath = Path.Combine(_directory, "ca.crt");
        File.WriteAllText(CaPath, _certificate.ExportCertificatePem());
    }

    /// <summary>The CA's PEM certificate.</summary>
    public string CaPath { get; }

    /// <summary>
    /// Issues a certificate for <paramref name="silo"/> and writes it and its key beside the CA certificate. Its subject
    /// alternative names are <paramref name="hosts"/> (IP addresses or DNS names), or the name alone.
    /// </summary>
    public SiloTlsFiles Issue(string silo, DateTimeOffset? notAfter = null, bool clientAuthentication = true, IReadOnlyList<string>? hosts = null)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={silo}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") };
        if (clientAuthentication)
        {
            usages.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        }
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, critical: false));
        var names = new SubjectAlternativeNameBuilder();
        foreach (string host in hosts ?? [silo])
        {
            if (System.Net.IPAddress.TryParse(host, out System.Net.IPAddress? address))
            {
                names.AddIpAddress(address);
            }
            else
            {
                names.AddDnsName(host);
            }
        }
        request.CertificateExtensions.Add(names.Build());
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 certificate = request.Create(_certificate, now.AddMinutes(-5), notAfter ?? now.AddDays(1), RandomNumberGenerator.GetBytes(16));
        string certificatePath = Path.Combine(_directory, silo + ".crt");
        string keyPath = Path.Combine(_directory, silo + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return new SiloTlsFiles(certificatePath, keyPath, CaPath);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
    }
}

/// <summary>A Redis server certificate's files for redis-server's --tls-* options, from a <see cref="TestClusterCa"/>.</summary>
public sealed record RedisTlsFiles(string CertificatePath, string KeyPath, string CaPath)
{
    /// <summary>A certificate for the loopback Redis of <see cref="RedisProcess"/> (127.0.0.1 and localhost).</summary>
    public static RedisTlsFiles Loopback(TestClusterCa ca, string name = "redis")
    {
        SiloTlsFiles files = ca.Issue(name, hosts: ["127.0.0.1", "localhost"]);
        return new RedisTlsFiles(files.CertificatePath, files.KeyPath, files.CaPath);
    }
}

/// <summary>The explicit plain-TCP choice for a Redis-mode test silo (one silo alone, or a test of that setting itself).</summary>
public static class PlainSiloTraffic
{
    public static IReadOnlyDictionary<string, string> Environment =>
        new Dictionary<string, string> { [ClusterOptions.PlainSiloTrafficSetting] = "true" };
}
