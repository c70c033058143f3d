using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Server;
using Orleans.Connections.Security;

namespace Mpc.Server.Tests.Configuration;

/// <summary>
/// The silo port's mutual TLS in Redis mode: the settings' start-up checks (one line each, before anything starts), the
/// files' checks (<see cref="SiloTls.Load"/>) and the peer check (a certificate of the cluster CA, and nothing else).
/// </summary>
public sealed class SiloTlsTests : IDisposable
{
    private const string Redis = "127.0.0.1:6379";
    private readonly TempDirectory _root = new("mpc-silo-tls-");
    private readonly TestClusterCa _ca;
    private readonly TestClusterCa _other;

    public SiloTlsTests()
    {
        _ca = new TestClusterCa(_root.File("cluster"));
        _other = new TestClusterCa(_root.File("other"), "another-ca");
    }

    public void Dispose()
    {
        _ca.Dispose();
        _other.Dispose();
        _root.Dispose();
    }

    private static (string, string)[] RedisMode(params (string, string)[] more) =>
        [("Mpc:Cluster:Mode", "redis"), ("Mpc:Cluster:RedisConnectionString", Redis), .. more];

    private static (string, string)[] Settings(SiloTlsFiles files) =>
        [("Mpc:Cluster:Tls:CertificatePath", files.CertificatePath), ("Mpc:Cluster:Tls:KeyPath", files.KeyPath), ("Mpc:Cluster:Tls:CaPath", files.CaPath)];

    [Fact]
    public void Redis_mode_without_tls_or_the_plain_setting_is_one_line_naming_both_ways()
    {
        string line = Assert.Single(MpcSettings.Refused(RedisMode()).Problems);
        Assert.Equal(
            "setting Mpc__Cluster__Tls__CertificatePath is not set: expected mutual TLS between silos in redis mode (Mpc__Cluster__Tls__CertificatePath, " +
            "Mpc__Cluster__Tls__KeyPath and Mpc__Cluster__Tls__CaPath; docs/operations.md, TLS), or Mpc__Cluster__PlainSiloTraffic=true when the silo " +
            "port is on a private network only the signer pods reach",
            line);
    }

    [Fact]
    public void Redis_mode_starts_on_either_tls_or_the_plain_setting_and_embedded_mode_needs_neither()
    {
        Assert.True(MpcSettings.Bind(RedisMode(("Mpc:Cluster:PlainSiloTraffic", "true"))).Cluster.PlainSiloTraffic);
        Assert.True(MpcSettings.Bind(RedisMode(Settings(_ca.Issue("silo")))).Cluster.Tls.IsSet);
        Assert.False(MpcSettings.Bind().Cluster.Tls.IsAnySet);
    }

    [Fact]
    public void Half_the_tls_settings_name_the_missing_one()
    {
        SiloTlsFiles files = _ca.Issue("silo");
        string line = Assert.Single(MpcSettings.Refused(RedisMode(
            ("Mpc:Cluster:Tls:CertificatePath", files.CertificatePath), ("Mpc:Cluster:Tls:KeyPath", files.KeyPath))).Problems);
        Assert.Equal(
            "setting Mpc__Cluster__Tls__CaPath is not set: expected the PEM CA certificate(s) that every silo's certificate chains to, set together " +
            "with the other two of Mpc__Cluster__Tls__CertificatePath, Mpc__Cluster__Tls__KeyPath and Mpc__Cluster__Tls__CaPath",
            line);

        // Half a set-up is refused in embedded mode too: it would not be what the operator meant.
        Assert.Equal(2, MpcSettings.Refused(("Mpc:Cluster:Tls:CaPath", files.CaPath)).Problems.Count);
    }

    [Fact]
    public void Tls_and_the_plain_setting_together_are_refused()
    {
        string line = Assert.Single(MpcSettings.Refused(RedisMode([.. Settings(_ca.Issue("silo")), ("Mpc:Cluster:PlainSiloTraffic", "true")])).Problems);
        Assert.StartsWith("setting Mpc__Cluster__PlainSiloTraffic='true' is not allowed: expected false (or unset) while", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Good_files_load_and_a_peer_of_the_same_ca_is_trusted_and_one_of_another_ca_is_not()
    {
        using SiloTls tls = Load(_ca.Issue("silo-a"));
        Assert.True(tls.Certificate.HasPrivateKey);

        using X509Certificate2 peer = CertificateAt(_ca.Issue("silo-b").CertificatePath);
        using X509Certificate2 stranger = CertificateAt(_other.Issue("rogue").CertificatePath);
        using X509Certificate2 selfSigned = SelfSigned("silo-b");
        Assert.True(tls.IsTrustedPeer(peer, presented: null));
        Assert.False(tls.IsTrustedPeer(stranger, presented: null));
        Assert.False(tls.IsTrustedPeer(selfSigned, presented: null));
        // The other CA's certificate offered as an intermediate is not an anchor: the stranger stays untrusted.
        using var offered = new X509Chain();
        offered.ChainPolicy.ExtraStore.Add(CertificateAt(_other.CaPath));
        Assert.False(tls.IsTrustedPeer(stranger, offered));
    }

    [Fact]
    public void A_bundle_with_the_old_and_the_new_ca_trusts_peers_of_both_during_a_rotation()
    {
        string bundle = _root.File("bundle.crt");
        File.WriteAllText(bundle, File.ReadAllText(_ca.CaPath) + "\n" + File.ReadAllText(_other.CaPath));
        using SiloTls tls = Load(_ca.Issue("silo-a") with { CaPath = bundle });
        using X509Certificate2 rotated = CertificateAt(_other.Issue("silo-b").CertificatePath);
        Assert.True(tls.IsTrustedPeer(rotated, presented: null));
    }

    [Fact]
    public void The_certificate_selectors_given_to_orleans_return_a_renewal_of_the_files_and_refuse_one_of_another_ca()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        SiloTlsFiles files = _ca.Issue("silo-a");
        using SiloTls tls = SiloTls.Load(Options(files), time);
        var options = new TlsOptions();
        tls.Configure(options);
        string first = options.LocalServerCertificateSelector!(null!, null).Thumbprint;

        _ca.Issue("silo-a"); // renewed in place
        time.Now += ReloadingCertificate.CheckInterval;
        X509Certificate2 server = options.LocalServerCertificateSelector!(null!, null);
        X509Certificate2? client = options.LocalClientCertificateSelector!(null!, "silo-b", new X509CertificateCollection(), null, []);
        using (X509Certificate2 renewed = CertificateAt(files.CertificatePath))
        {
            Assert.NotEqual(first, server.Thumbprint);
            Assert.Equal(renewed.Thumbprint, server.Thumbprint);
            Assert.Equal(renewed.Thumbprint, client?.Thumbprint);
        }

        // A certificate of a CA that ca.crt does not hold is refused, and the renewed one stays.
        SiloTlsFiles foreign = _other.Issue("silo-a");
        File.Copy(foreign.CertificatePath, files.CertificatePath, overwrite: true);
        File.Copy(foreign.KeyPath, files.KeyPath, overwrite: true);
        time.Now += ReloadingCertificate.CheckInterval;
        Assert.Equal(server.Thumbprint, options.LocalServerCertificateSelector!(null!, null).Thumbprint);
    }

    [Fact]
    public void A_ca_rotation_needs_no_restart_a_ca_added_to_the_file_is_trusted_a_removed_one_no_longer_and_a_broken_file_changes_nothing()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        var warnings = new CapturedWarnings();
        SiloTlsFiles files = _ca.Issue("silo-a");
        using SiloTls tls = SiloTls.Load(Options(files), time);
        tls.LogTo(warnings.Provider().CreateLogger(nameof(SiloTls)));
        var options = new TlsOptions();
        tls.Configure(options);
        using X509Certificate2 oldPeer = CertificateAt(_ca.Issue("silo-b").CertificatePath);
        using X509Certificate2 newPeer = CertificateAt(_other.Issue("silo-c").CertificatePath);
        Assert.False(tls.IsTrustedPeer(newPeer, presented: null));

        // Step 1: ca.crt holds the old and the new CA; seen at the next check, not before.
        string oldCa = File.ReadAllText(_ca.CaPath), newCa = File.ReadAllText(_other.CaPath);
        File.WriteAllText(files.CaPath, oldCa + "\n" + newCa);
        Assert.False(tls.IsTrustedPeer(newPeer, presented: null));
        time.Now += ReloadingCertificate.CheckInterval;
        Assert.True(tls.IsTrustedPeer(newPeer, presented: null));
        Assert.True(tls.IsTrustedPeer(oldPeer, presented: null));

        // Step 2: this silo's certificate renewed by the new CA passes the renewal's check against the CAs of now.
        SiloTlsFiles renewed = _other.Issue("silo-a");
        File.Copy(renewed.CertificatePath, files.CertificatePath, overwrite: true);
        File.Copy(renewed.KeyPath, files.KeyPath, overwrite: true);
        time.Now += ReloadingCertificate.CheckInterval;
        using (X509Certificate2 expected = CertificateAt(files.CertificatePath))
        {
            Assert.Equal(expected.Thumbprint, options.LocalServerCertificateSelector!(null!, null).Thumbprint);
        }

        // A ca.crt that holds no certificate (emptied, half-written) keeps the CAs in use, with one warning.
        File.WriteAllText(files.CaPath, "-----BEGIN CERTIFICATE-----\nMIIB");
        for (int i = 0; i < 3; i++)
        {
            time.Now += ReloadingCertificate.CheckInterval;
            Assert.True(tls.IsTrustedPeer(newPeer, presented: null));
            Assert.True(tls.IsTrustedPeer(oldPeer, presented: null));
        }
        string warning = Assert.Single(warnings.Containing("Kept the current CAs"));
        Assert.Contains(ClusterTlsOptions.CaPathSetting, warning, StringComparison.Ordinal);
        Assert.Contains("holds no PEM CA certificate", warning, StringComparison.Ordinal);

        // Step 3: the old CA removed; its certificates are no longer trusted.
        File.WriteAllText(files.CaPath, newCa);
        time.Now += ReloadingCertificate.CheckInterval;
        Assert.False(tls.IsTrustedPeer(oldPeer, presented: null));
        Assert.True(tls.IsTrustedPeer(newPeer, presented: null));
    }

    [Fact]
    public void An_unreadable_certificate_is_one_line_naming_the_setting_and_the_file()
    {
        string missing = _root.File("missing.crt");
        string line = Assert.Single(LoadRefused(_ca.Issue("silo") with { CertificatePath = missing }).Problems);
        Assert.StartsWith($"setting Mpc__Cluster__Tls__CertificatePath='{missing}' cannot be read: ", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_a_certificate_and_a_ca_file_without_one_are_a_line_each()
    {
        SiloTlsFiles files = _ca.Issue("silo");
        ServerStartupException e = LoadRefused(files with { CertificatePath = files.KeyPath, CaPath = files.KeyPath });
        Assert.Equal(
            [
                $"setting Mpc__Cluster__Tls__CertificatePath='{files.KeyPath}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                $"setting Mpc__Cluster__Tls__CaPath='{files.KeyPath}' holds no PEM CA certificate (-----BEGIN CERTIFICATE-----)",
            ],
            e.Problems);
        Assert.DoesNotContain("PRIVATE KEY-----", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_that_is_not_the_certificates_is_one_line_that_shows_no_key()
    {
        SiloTlsFiles files = _ca.Issue("silo");
        SiloTlsFiles other = _ca.Issue("other-silo");
        ServerStartupException e = LoadRefused(files with { KeyPath = other.KeyPath });
        Assert.Equal(
            $"setting Mpc__Cluster__Tls__KeyPath='{other.KeyPath}' holds no unencrypted PEM private key (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY) " +
            "of the certificate in Mpc__Cluster__Tls__CertificatePath",
            Assert.Single(e.Problems));
        string keyBody = File.ReadAllText(other.KeyPath).Split('\n')[1];
        Assert.DoesNotContain(keyBody, e.Message, StringComparison.Ordinal);

        // A certificate where the key should be: the same line.
        Assert.Contains("holds no unencrypted PEM private key", Assert.Single(LoadRefused(files with { KeyPath = files.CertificatePath }).Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void A_certificate_of_another_ca_expired_or_without_client_use_is_refused_before_the_silo_starts()
    {
        SiloTlsFiles foreign = _other.Issue("silo");
        Assert.Equal(
            $"setting Mpc__Cluster__Tls__CertificatePath='{foreign.CertificatePath}' holds a certificate not issued by a CA of Mpc__Cluster__Tls__CaPath; the other silos would refuse it",
            Assert.Single(LoadRefused(foreign with { CaPath = _ca.CaPath }).Problems));

        SiloTlsFiles expired = _ca.Issue("expired", notAfter: DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Contains("holds a certificate that expired on", Assert.Single(LoadRefused(expired).Problems), StringComparison.Ordinal);

        SiloTlsFiles serverOnly = _ca.Issue("server-only", clientAuthentication: false);
        Assert.Contains("does not allow both serverAuth and clientAuth", Assert.Single(LoadRefused(serverOnly).Problems), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_silo_traffic_is_one_start_up_warning_and_tls_is_none()
    {
        // Building checks that Redis is durable (RedisDurabilityCheck), so a real one answers.
        using var redis = new RedisProcess(Directory.CreateDirectory(_root.File("redis")).FullName);
        await redis.StartAsync();
        try
        {
            Assert.Single(await StartupWarningsAsync(redis, cluster => cluster.PlainSiloTraffic = true), w => w.Contains(ClusterOptions.PlainSiloTrafficSetting, StringComparison.Ordinal));
            Assert.DoesNotContain(await StartupWarningsAsync(redis, _ca.Issue("silo").ApplyTo), w => w.Contains(ClusterOptions.PlainSiloTrafficSetting, StringComparison.Ordinal));
        }
        finally
        {
            await redis.StopAsync();
        }
    }

    private async Task<string[]> StartupWarningsAsync(RedisProcess redis, Action<ClusterOptions> siloTraffic)
    {
        var warnings = new CapturedWarnings();
        var options = new MpcServerOptions { DataDirectory = _root.File($"data-{Guid.NewGuid():N}"), Urls = "http://127.0.0.1:0", Quiet = true };
        options.Cluster.Mode = ClusterOptions.RedisMode;
        options.Cluster.RedisConnectionString = redis.ConnectionString;
        options.Cluster.SiloPort = 1;
        siloTraffic(options.Cluster);
        await using WebApplication app = MpcServerHost.Build(options, configureSilo: silo => silo.Services.AddSingleton(warnings.Provider()));
        return [.. warnings.Containing("")];
    }

    private static SiloTls Load(SiloTlsFiles files) => SiloTls.Load(Options(files), TimeProvider.System);

    private static ServerStartupException LoadRefused(SiloTlsFiles files) =>
        Assert.Throws<ServerStartupException>(() => SiloTls.Load(Options(files), TimeProvider.System));

    private static ClusterTlsOptions Options(SiloTlsFiles files) =>
        new() { CertificatePath = files.CertificatePath, KeyPath = files.KeyPath, CaPath = files.CaPath };

    private static X509Certificate2 CertificateAt(string path) => X509Certificate2.CreateFromPem(File.ReadAllText(path));

    private static X509Certificate2 SelfSigned(string name)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }
}
