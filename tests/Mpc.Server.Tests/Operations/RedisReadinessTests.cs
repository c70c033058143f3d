using Grpc.Health.V1;
using Grpc.Net.Client;
using Mpc.Server;
using Mpc.Testing;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Mpc.Server.Tests.Operations;

/// <summary>
/// Readiness against a real Redis, as in the Kubernetes deployment: a Redis that goes away takes the server out of
/// rotation (NOT_SERVING) while liveness stays SERVING, and readiness comes back with Redis, without a restart.
/// </summary>
public sealed class RedisReadinessTests : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _redisDirectory = new();
    private readonly RedisProcess _redis;
    private readonly ServerFixture _server;

    public RedisReadinessTests()
    {
        _redis = new RedisProcess(_redisDirectory.Path);
        _server = new ServerFixture
        {
            ConfigureOptions = options =>
            {
                options.Cluster.Mode = ClusterOptions.RedisMode;
                options.Cluster.RedisConnectionString = _redis.ConnectionString;
                options.Cluster.ClusterId = "health-" + Guid.NewGuid().ToString("N");
                options.Cluster.AdvertisedIPAddress = "127.0.0.1";
                options.Cluster.SiloPort = ClusterPorts.Free();
                // One silo: no silo-to-silo traffic to protect.
                options.Cluster.PlainSiloTraffic = true;
            },
        };
    }

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        await _server.InitializeAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync();

    public void Dispose()
    {
        _redis.Dispose();
        _redisDirectory.Dispose();
    }

    [Fact]
    public async Task A_redis_outage_makes_readiness_not_serving_and_liveness_stays_serving_until_redis_returns()
    {
        // No key work here: a keygen on a loaded machine can outlast the Redis mode's 10 s grain-call timeout, and
        // readiness needs none (its storage read goes straight to Redis).
        foreach (string name in ServerHealth.ServiceNames)
        {
            Assert.Equal(ServingStatus.Serving, await CheckAsync(name));
        }

        await _redis.StopAsync();
        foreach (string name in ServerHealth.ReadinessNames)
        {
            Assert.Equal(ServingStatus.NotServing, await CheckAsync(name));
        }
        Assert.Equal(ServingStatus.Serving, await CheckAsync(ServerHealth.Liveness));

        await _redis.StartAsync();
        // The Redis client reconnects on its own (AbortOnConnectFail is off); readiness follows within seconds.
        ServingStatus status = ServingStatus.Unknown;
        await Poll.UntilAsync(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500),
            async () => (status = await CheckAsync(ServerHealth.Readiness)) == ServingStatus.Serving,
            () => $"readiness was still {status} 30 s after Redis came back");
    }

    private async Task<ServingStatus> CheckAsync(string service)
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(_server.Address);
        // Under a kubelet-like deadline: the check answers NOT_SERVING by itself rather than running into it.
        HealthCheckResponse response = await new Health.HealthClient(channel).CheckAsync(
            new HealthCheckRequest { Service = service }, deadline: DateTime.UtcNow.AddSeconds(30));
        return response.Status;
    }
}
