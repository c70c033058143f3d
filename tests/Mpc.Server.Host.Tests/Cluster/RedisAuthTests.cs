using System.Security.Cryptography;

namespace Mpc.Server.Host.Tests.Cluster;

/// <summary>
/// Redis with AUTH, as the Helm chart runs it (<c>--requirepass</c> from a Secret), and an `mpc-server`
/// silo connecting through its ordinary setting <c>Mpc__Cluster__RedisConnectionString=host:port,password=...</c>.
/// </summary>
public sealed class RedisAuthTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Silo_joins_a_password_protected_redis_through_the_connection_string_setting()
    {
        // Hex, as deploy/README.md tells operators to make it: no comma to split the connection string.
        string password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        using var redis = new RedisProcess(Directory.CreateDirectory(_root.File("redis")).FullName, password);
        await redis.StartAsync();
        try
        {
            Assert.Contains("NOAUTH", redis.Cli(authenticate: false, "dbsize"), StringComparison.Ordinal);
            Assert.Equal("0", redis.Cli("dbsize").Trim());

            string clusterId = "auth-" + Guid.NewGuid().ToString("N")[..8];
            // One silo, and the explicit plain setting kept in use by a spawned silo (SiloTlsTests covers TLS).
            using var silo = new SiloProcess("silo", _root.File("data"), _root.File("kek"),
                redis.ConnectionString, clusterId, PlainSiloTraffic.Environment);
            await silo.StartAsync(); // returns once the health service answers SERVING: the silo is active in the cluster

            // The silo wrote its membership entry through the authenticated connection.
            Assert.True(int.Parse(redis.Cli("dbsize").Trim()) > 0, "the silo wrote nothing to Redis");
            Assert.Contains(clusterId, redis.Cli("--scan"), StringComparison.Ordinal);
        }
        finally
        {
            await redis.StopAsync();
        }
    }

    [Fact]
    public async Task Silo_with_a_wrong_password_never_reports_serving()
    {
        using var redis = new RedisProcess(Directory.CreateDirectory(_root.File("redis")).FullName,
            Convert.ToHexString(RandomNumberGenerator.GetBytes(24)));
        await redis.StartAsync();
        try
        {
            string wrong = $"127.0.0.1:{redis.Port},password={Convert.ToHexString(RandomNumberGenerator.GetBytes(24))}";
            using var silo = new SiloProcess("silo", _root.File("data"), _root.File("kek"),
                wrong, "auth-" + Guid.NewGuid().ToString("N")[..8], PlainSiloTraffic.Environment);
            Exception failure = await Record.ExceptionAsync(silo.StartAsync);
            Assert.NotNull(failure);
            Assert.Equal("0", redis.Cli("dbsize").Trim());
        }
        finally
        {
            await redis.StopAsync();
        }
    }
}
