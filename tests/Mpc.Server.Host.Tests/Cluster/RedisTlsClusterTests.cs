using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Grains.Sealing;
using Mpc.Server;

namespace Mpc.Server.Host.Tests.Cluster;

/// <summary>
/// A real redis-server that speaks TLS only (no plain port), its certificate from a private CA, and a spawned
/// `mpc-server` in Redis mode with <c>Mpc__Cluster__Redis__CaPath</c>: every connection the server makes to Redis
/// (durability check, membership, grain storage) goes through the server's CA check and, when Redis requires one,
/// presents the client certificate.
/// </summary>
[Collection("cluster")]
public sealed class RedisTlsClusterTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _root = new("mpc-redis-tls-");

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task A_silo_with_the_redis_ca_makes_a_key_and_signs_with_its_state_in_tls_redis()
    {
        using var ca = new TestClusterCa(_root.File("redis-ca"), "redis-ca");
        using RedisProcess redis = await StartedRedis(ca, requireClientCertificate: false);
        try
        {
            using SiloProcess silo = Silo(redis, new() { [ClusterRedisOptions.CaPathSetting] = ca.CaPath });
            await silo.StartAsync();
            await MakeKeyAndSignAsync(silo);
            // Redis has no plain port: the membership entry and the user's grain state got there over TLS.
            string keys = redis.Cli("--scan");
            output.WriteLine(keys);
            Assert.Contains("members", keys, StringComparison.Ordinal);
            Assert.Contains("user", keys, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await redis.StopAsync();
        }
    }

    [Fact]
    public async Task A_silo_with_a_ca_that_did_not_issue_the_redis_certificate_never_becomes_ready()
    {
        using var ca = new TestClusterCa(_root.File("redis-ca"), "redis-ca");
        using var other = new TestClusterCa(_root.File("other-ca"), "other-ca");
        using RedisProcess redis = await StartedRedis(ca, requireClientCertificate: false);
        try
        {
            using SiloProcess silo = Silo(redis, new() { [ClusterRedisOptions.CaPathSetting] = other.CaPath });
            SiloExitedException exited = await Assert.ThrowsAsync<SiloExitedException>(silo.StartOnceAsync);
            output.WriteLine(exited.Message);
            AssertRedisRefused(exited);
            Assert.Equal("0", redis.Cli("dbsize").Trim());
        }
        finally
        {
            await redis.StopAsync();
        }
    }

    [Fact]
    public async Task A_redis_that_requires_client_certificates_admits_the_silo_with_one_and_not_without()
    {
        using var ca = new TestClusterCa(_root.File("redis-ca"), "redis-ca");
        using RedisProcess redis = await StartedRedis(ca, requireClientCertificate: true);
        try
        {
            using (SiloProcess without = Silo(redis, new() { [ClusterRedisOptions.CaPathSetting] = ca.CaPath }))
            {
                SiloExitedException exited = await Assert.ThrowsAsync<SiloExitedException>(without.StartOnceAsync);
                output.WriteLine(exited.Message);
                // Under TLS 1.3 Redis checks the client certificate after the client's side of the handshake has finished,
                // so the refusal reaches the silo as a closed connection, not as a failed handshake.
                Assert.Equal(69, exited.ExitCode);
                Assert.Contains("error: Redis did not answer (", exited.Message, StringComparison.Ordinal);
                Assert.Equal("0", redis.Cli("dbsize").Trim());
            }

            SiloTlsFiles client = ca.Issue("mpc-signer");
            using SiloProcess with = Silo(redis, new()
            {
                [ClusterRedisOptions.CaPathSetting] = ca.CaPath,
                [ClusterRedisOptions.CertificatePathSetting] = client.CertificatePath,
                [ClusterRedisOptions.KeyPathSetting] = client.KeyPath,
            });
            await with.StartAsync();
            await MakeKeyAndSignAsync(with);
            Assert.True(int.Parse(redis.Cli("dbsize").Trim()) > 0, "the silo wrote nothing to Redis");
        }
        finally
        {
            await redis.StopAsync();
        }
    }

    /// <summary>The durability check's connection, the first the server makes, refuses Redis's certificate: one line, exit code 69, never SERVING.</summary>
    private static void AssertRedisRefused(SiloExitedException exited)
    {
        Assert.Equal(69, exited.ExitCode);
        Assert.Contains("error: Redis refused the connection (AuthenticationFailure): check the password in Mpc__Cluster__RedisConnectionString and, over TLS, " +
            "that Redis's certificate chains to Mpc__Cluster__Redis__CaPath", exited.Message, StringComparison.Ordinal);
    }

    private async Task<RedisProcess> StartedRedis(TestClusterCa ca, bool requireClientCertificate)
    {
        var redis = new RedisProcess(Directory.CreateDirectory(_root.File("redis")).FullName,
            tls: RedisTlsFiles.Loopback(ca), requireClientCertificate: requireClientCertificate);
        await redis.StartAsync();
        // Shared by the silos: made once up front so no two processes race to create them.
        using (DevelopmentTokens.Open(_root.File("data"), create: true))
        using (var masterKey = new FileKeyEncryptionKeyProvider(_root.File("kek")))
        {
            Assert.NotEmpty(masterKey.KeyId);
        }
        return redis;
    }

    private SiloProcess Silo(RedisProcess redis, Dictionary<string, string> redisTls) =>
        new("silo", _root.File("data"), _root.File("kek"), redis.ConnectionString, "redis-tls-" + Guid.NewGuid().ToString("N")[..8],
            PlainSiloTraffic.Environment, redisTls);

    private async Task MakeKeyAndSignAsync(SiloProcess silo)
    {
        using DevelopmentTokens tokens = DevelopmentTokens.Open(_root.File("data"), create: false);
        string token = tokens.Mint("redis-tls-user-" + Guid.NewGuid().ToString("N")[..8], TimeSpan.FromHours(1));
        using var client = new MpcSignerClient(silo.Url, token);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        MpcSignature signature = await client.SignDigestAsync(key, digest);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(key.Curve, key.SubjectPublicKeyInfo, digest, signature));
    }
}
