using Microsoft.Extensions.Logging;
using Mpc.Server;
using Mpc.Testing;

namespace Mpc.Server.Tests.Configuration;

/// <summary>
/// The start-up check that Redis fsyncs every write, against real redis-server processes: which endpoints it refuses,
/// which it only warns about. (The refusal's one line and exit code are ServerStartupTests'.)
/// </summary>
public sealed class RedisDurabilityCheckTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task An_endpoint_that_does_not_answer_while_another_does_is_named_in_a_warning()
    {
        using RedisProcess redis = await StartedRedis("durable", "always");
        int closed = ClusterPorts.Free();
        var logger = new RecordingLogger();

        RedisDurabilityCheck.Verify(Cluster($"{redis.ConnectionString},127.0.0.1:{closed}"), tls: null, logger);

        string warning = Assert.Single(logger.Warnings);
        Assert.Contains($"127.0.0.1:{closed}", warning, StringComparison.Ordinal);
        Assert.Contains("not connected at start-up", warning, StringComparison.Ordinal);
        Assert.DoesNotContain($"127.0.0.1:{redis.Port}", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_durable_endpoint_beside_a_silent_one_does_not_hide_a_non_durable_one()
    {
        using RedisProcess durable = await StartedRedis("durable", "always");
        using RedisProcess everySecond = await StartedRedis("every-second", "everysec");
        int closed = ClusterPorts.Free();

        var e = Assert.Throws<ServerStartupException>(() => RedisDurabilityCheck.Verify(
            Cluster($"{durable.ConnectionString},127.0.0.1:{closed},{everySecond.ConnectionString}"), tls: null, new RecordingLogger()));

        Assert.Contains($"Redis at 127.0.0.1:{everySecond.Port} runs with appendonly yes and appendfsync everysec", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_durable_redis_passes_without_a_word()
    {
        using RedisProcess redis = await StartedRedis("durable", "always");
        var logger = new RecordingLogger();

        RedisDurabilityCheck.Verify(Cluster(redis.ConnectionString), tls: null, logger);

        Assert.Empty(logger.Warnings);
    }

    private async Task<RedisProcess> StartedRedis(string name, string appendFsync)
    {
        var redis = new RedisProcess(Directory.CreateDirectory(_root.File(name)).FullName, appendFsync: appendFsync);
        await redis.StartAsync();
        return redis;
    }

    private static ClusterOptions Cluster(string connectionString) =>
        new() { Mode = ClusterOptions.RedisMode, RedisConnectionString = connectionString };

    private sealed class RecordingLogger : ILogger
    {
        private readonly List<string> _warnings = [];

        public IReadOnlyList<string> Warnings
        {
            get
            {
                lock (_warnings)
                {
                    return [.. _warnings];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                lock (_warnings)
                {
                    _warnings.Add(formatter(state, exception));
                }
            }
        }
    }
}
