using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Server;

namespace Mpc.Server.Tests.Configuration;

/// <summary>
/// TLS to Redis: the settings' start-up checks (a CA implies ssl=true, client certificate files in pairs, plain Redis
/// beyond loopback only on the operator's word), the files' checks (<see cref="RedisTls.Load"/>) and the server check
/// (a certificate of the configured CA naming the host, and nothing else).
/// </summary>
public sealed class RedisTlsTests : IDisposable
{
    private readonly TempDirectory _root = new("mpc-redis-tls-");
    private readonly TestClusterCa _ca;
    private readonly TestClusterCa _other;

    public RedisTlsTests()
    {
        _ca = new TestClusterCa(_root.File("redis-ca"));
        _other = new TestClusterCa(_root.File("other"), "another-ca");
    }

    public void Dispose()
    {
        _ca.Dispose();
        _other.Dispose();
        _root.Dispose();
    }

    /// <summary>Redis mode with plain silo traffic (the silo port is not what these tests are about).</summary>
    private static (string, string)[] RedisMode(string connectionString, params (string, string)[] more) =>
        [("Mpc:Cluster:Mode", "redis"), ("Mpc:Cluster:RedisConnectionString", connectionString), ("Mpc:Cluster:PlainSiloTraffic", "true"), .. more];

    [Fact]
    public void Plain_redis_beyond_loopback_without_the_acknowledgement_is_one_line_naming_both_ways()
    {
        string line = Assert.Single(MpcSettings.Refused(RedisMode("redis.internal:6379,password=hunter2")).Problems);
        Assert.Equal(
            "setting Mpc__Cluster__RedisConnectionString=(value hidden) is not allowed: expected ssl=true in the connection string for a Redis beyond loopback " +
            "(with Mpc__Cluster__Redis__CaPath for a private CA; docs/operations.md, TLS), or Mpc__Cluster__PlainRedisTraffic=true when only the signer pods " +
            "and Redis reach the network between them",
            line);
        Assert.DoesNotContain("hunter2", line, StringComparison.Ordinal);
        // One endpoint beyond loopback is enough.
        Assert.Single(MpcSettings.Refused(RedisMode("127.0.0.1:6379,10.0.0.7:6379")).Problems);
    }

    [Fact]
    public void Loopback_redis_tls_or_the_acknowledgement_each_start_and_embedded_mode_needs_none()
    {
        Assert.False(MpcSettings.Bind(RedisMode("127.0.0.1:6379")).Cluster.PlainRedisTraffic);
        Assert.False(MpcSettings.Bind(RedisMode("localhost:6379,[::1]:6380")).Cluster.PlainRedisTraffic);
        Assert.Equal("redis.internal:6380,ssl=true", MpcSettings.Bind(RedisMode("redis.internal:6380,ssl=true")).Cluster.RedisConnectionString);
        Assert.True(MpcSettings.Bind(RedisMode("redis.internal:6379", ("Mpc:Cluster:PlainRedisTraffic", "true"))).Cluster.PlainRedisTraffic);
        Assert.Null(MpcSettings.Bind(("Mpc:Cluster:RedisConnectionString", "redis.internal:6379")).Cluster.Redis.CaPath);
    }

    [Fact]
    public void A_ca_with_a_connection_string_that_does_not_say_ssl_true_is_refused()
    {
        foreach (string connectionString in new[] { "127.0.0.1:6379", "redis.internal:6380,ssl=false" })
        {
            string line = Assert.Single(MpcSettings.Refused(RedisMode(connectionString, ("Mpc:Cluster:Redis:CaPath", _ca.CaPath))).Problems,
                problem => problem.Contains("Mpc__Cluster__Redis__CaPath=", StringComparison.Ordinal));
            Assert.Equal(
                $"setting Mpc__Cluster__Redis__CaPath='{_ca.CaPath}' is not allowed: expected the PEM CA certificate(s) that Redis's certificate chains to, " +
                "with ssl=true in Mpc__Cluster__RedisConnectionString",
                line);
        }
        Assert.Equal(_ca.CaPath, MpcSettings.Bind(RedisMode("redis.internal:6380,ssl=true", ("Mpc:Cluster:Redis:CaPath", _ca.CaPath))).Cluster.Redis.CaPath);
    }

    [Fact]
    public void Half_a_client_certificate_or_one_without_a_ca_names_what_is_missing()
    {
        SiloTlsFiles client = _ca.Issue("signer");
        const string Tls = "redis.internal:6380,ssl=true";
        Assert.Equal(
            "setting Mpc__Cluster__Redis__KeyPath is not set: expected the PEM private key of that certificate, set together with the other of " +
            "Mpc__Cluster__Redis__CertificatePath and Mpc__Cluster__Redis__KeyPath",
            Assert.Single(MpcSettings.Refused(RedisMode(Tls, ("Mpc:Cluster:Redis:CaPath", _ca.CaPath), ("Mpc:Cluster:Redis:CertificatePath", client.CertificatePath))).Problems));
        Assert.StartsWith(
            "setting Mpc__Cluster__Redis__CertificatePath is not set",
            Assert.Single(MpcSettings.Refused(RedisMode(Tls, ("Mpc:Cluster:Redis:CaPath", _ca.CaPath), ("Mpc:Cluster:Redis:KeyPath", client.KeyPath))).Problems),
            StringComparison.Ordinal);
        Assert.Equal(
            "setting Mpc__Cluster__Redis__CaPath is not set: expected the PEM CA certificate(s) that Redis's certificate chains to, set with " +
            "Mpc__Cluster__Redis__CertificatePath and Mpc__Cluster__Redis__KeyPath",
            Assert.Single(MpcSettings.Refused(RedisMode(Tls, ("Mpc:Cluster:Redis:CertificatePath", client.CertificatePath), ("Mpc:Cluster:Redis:KeyPath", client.KeyPath))).Problems));
    }

    [Fact]
    public void The_acknowledgement_beside_tls_is_refused()
    {
        string line = Assert.Single(MpcSettings.Refused(RedisMode("redis.internal:6380,ssl=true", ("Mpc:Cluster:PlainRedisTraffic", "true"))).Problems);
        Assert.StartsWith("setting Mpc__Cluster__PlainRedisTraffic='true' is not allowed: expected false (or unset) while", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_that_cannot_be_used_are_one_line_each_without_the_key()
    {
        string missing = _root.File("missing.crt");
        Assert.StartsWith(
            $"setting Mpc__Cluster__Redis__CaPath='{missing}' cannot be read:",
            Assert.Single(LoadRefused(new ClusterRedisOptions { CaPath = missing }).Problems), StringComparison.Ordinal);

        string notPem = _root.File("not-pem.crt");
        File.WriteAllText(notPem, "hello");
        Assert.Equal(
            $"setting Mpc__Cluster__Redis__CaPath='{notPem}' holds no PEM CA certificate (-----BEGIN CERTIFICATE-----)",
            Assert.Single(LoadRefused(new ClusterRedisOptions { CaPath = notPem }).Problems));

        SiloTlsFiles client = _ca.Issue("signer");
        SiloTlsFiles another = _ca.Issue("another");
        string line = Assert.Single(LoadRefused(new ClusterRedisOptions { CaPath = _ca.CaPath, CertificatePath = client.CertificatePath, KeyPath = another.KeyPath }).Problems);
        Assert.Equal(
            $"setting Mpc__Cluster__Redis__KeyPath='{another.KeyPath}' holds no unencrypted PEM private key (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY) " +
            "of the certificate in Mpc__Cluster__Redis__CertificatePath",
            line);
        Assert.DoesNotContain("PRIVATE KEY-----", line, StringComparison.Ordinal);

        SiloTlsFiles serverOnly = _ca.Issue("server-only", clientAuthentication: false);
        Assert.Contains(
            "does not allow clientAuth",
            Assert.Single(LoadRefused(new ClusterRedisOptions { CaPath = _ca.CaPath, CertificatePath = serverOnly.CertificatePath, KeyPath = serverOnly.KeyPath }).Problems),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Redis_certificates_of_the_ca_are_trusted_and_those_of_another_ca_or_for_another_host_are_not()
    {
        using RedisTls tls = RedisTls.Load(new ClusterRedisOptions { CaPath = _ca.CaPath }, TimeProvider.System);
        Assert.Null(tls.ClientCertificate);
        using X509Certificate2 redis = CertificateAt(RedisTlsFiles.Loopback(_ca).CertificatePath);
        using X509Certificate2 stranger = CertificateAt(RedisTlsFiles.Loopback(_other, "rogue").CertificatePath);

        // The TLS layer reports a chain error for a private CA (not in the system's roots): the CA check decides.
        Assert.True(tls.IsTrustedServer(redis, chain: null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(tls.IsTrustedServer(stranger, chain: null, SslPolicyErrors.RemoteCertificateChainErrors));
        // Even a chain the TLS layer found good (a public CA) must chain to the configured CA.
        Assert.False(tls.IsTrustedServer(stranger, chain: null, SslPolicyErrors.None));
        // A certificate of the CA for another host, or none at all, is refused.
        Assert.False(tls.IsTrustedServer(redis, chain: null, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(tls.IsTrustedServer(null, chain: null, SslPolicyErrors.RemoteCertificateNotAvailable));
        // The other CA offered as an intermediate is not an anchor.
        using var offered = new X509Chain();
        offered.ChainPolicy.ExtraStore.Add(CertificateAt(_other.CaPath));
        Assert.False(tls.IsTrustedServer(stranger, offered, SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public void A_client_certificate_loads_with_its_key()
    {
        SiloTlsFiles client = _ca.Issue("signer");
        using RedisTls tls = RedisTls.Load(new ClusterRedisOptions { CaPath = _ca.CaPath, CertificatePath = client.CertificatePath, KeyPath = client.KeyPath }, TimeProvider.System);
        Assert.True(tls.ClientCertificate!.HasPrivateKey);
    }

    [Fact]
    public void A_renewed_client_certificate_and_a_changed_ca_file_are_used_without_a_restart()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        SiloTlsFiles client = _ca.Issue("signer");
        string caPath = _root.File("redis-ca.crt");
        File.Copy(_ca.CaPath, caPath);
        using RedisTls tls = RedisTls.Load(new ClusterRedisOptions { CaPath = caPath, CertificatePath = client.CertificatePath, KeyPath = client.KeyPath }, time);
        string first = tls.ClientCertificate!.Thumbprint;

        // Renewed in place: after the check, the certificate Apply's selection gives each new connection is the new one.
        _ca.Issue("signer");
        time.Now += ReloadingCertificate.CheckInterval;
        using (X509Certificate2 renewed = CertificateAt(client.CertificatePath))
        {
            Assert.NotEqual(first, renewed.Thumbprint);
            Assert.Equal(renewed.Thumbprint, tls.ClientCertificate!.Thumbprint);
        }

        // Redis moved to a certificate of another CA: trusted once ca.crt holds that CA, and only then.
        using X509Certificate2 moved = CertificateAt(RedisTlsFiles.Loopback(_other, "redis").CertificatePath);
        Assert.False(tls.IsTrustedServer(moved, chain: null, SslPolicyErrors.RemoteCertificateChainErrors));
        File.WriteAllText(caPath, File.ReadAllText(_ca.CaPath) + "\n" + File.ReadAllText(_other.CaPath));
        time.Now += ReloadingCertificate.CheckInterval;
        Assert.True(tls.IsTrustedServer(moved, chain: null, SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public async Task Plain_redis_traffic_beyond_loopback_is_one_start_up_warning_naming_the_risk_and_on_loopback_none()
    {
        // Building checks that Redis is durable (RedisDurabilityCheck), so a real one answers.
        using var redis = new RedisProcess(Directory.CreateDirectory(_root.File("redis")).FullName);
        await redis.StartAsync();
        try
        {
            // 0.0.0.0 is no loopback address, so the server takes it for a Redis beyond loopback, yet a connection to it
            // reaches this machine's Redis: the one address beyond loopback a test may use.
            string beyondLoopback = $"0.0.0.0:{redis.Port}";
            string warning = Assert.Single(await StartupWarningsAsync(beyondLoopback, cluster => cluster.PlainRedisTraffic = true),
                w => w.Contains(ClusterOptions.PlainRedisTrafficSetting, StringComparison.Ordinal));
            Assert.Contains("undo its freeze", warning, StringComparison.Ordinal);

            // On loopback plain Redis needs no acknowledgement, so the setting there warns of nothing.
            foreach (Action<ClusterOptions> redisTraffic in new Action<ClusterOptions>[] { cluster => cluster.PlainRedisTraffic = true, _ => { } })
            {
                Assert.DoesNotContain(await StartupWarningsAsync(redis.ConnectionString, redisTraffic),
                    w => w.Contains(ClusterOptions.PlainRedisTrafficSetting, StringComparison.Ordinal));
            }
        }
        finally
        {
            await redis.StopAsync();
        }
    }

    private async Task<string[]> StartupWarningsAsync(string redisConnectionString, Action<ClusterOptions> redisTraffic)
    {
        var warnings = new CapturedWarnings();
        var options = new MpcServerOptions { DataDirectory = _root.File($"data-{Guid.NewGuid():N}"), Urls = "http://127.0.0.1:0", Quiet = true };
        options.Cluster.Mode = ClusterOptions.RedisMode;
        options.Cluster.RedisConnectionString = redisConnectionString;
        options.Cluster.SiloPort = 1;
        options.Cluster.PlainSiloTraffic = true;
        redisTraffic(options.Cluster);
        await using WebApplication app = MpcServerHost.Build(options, configureSilo: silo => silo.Services.AddSingleton(warnings.Provider()));
        return [.. warnings.Containing("")];
    }

    private static ServerStartupException LoadRefused(ClusterRedisOptions options) =>
        Assert.Throws<ServerStartupException>(() => RedisTls.Load(options, TimeProvider.System));

    private static X509Certificate2 CertificateAt(string path) => X509Certificate2.CreateFromPem(File.ReadAllText(path));
}
