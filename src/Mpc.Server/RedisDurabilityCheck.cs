using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Mpc.Server;

/// <summary>
/// Before the silo starts in Redis mode: every primary must run with <c>appendonly yes</c> and <c>appendfsync
/// always</c>, the setting the freeze-before-reply rule relies on (a freeze Redis acknowledged but kept only in memory,
/// or in an append-only file flushed once a second, is gone after Redis restarts). Otherwise the server refuses to start,
/// naming the settings, unless <see cref="ClusterOptions.AllowNonDurableRedis"/> accepts that. A Redis that refuses
/// CONFIG (a managed service, a renamed command, an ACL) cannot be checked, nor can an endpoint that does not answer
/// while another does: each is logged, not refused. Redis not answering at all ends start-up as the silo's own
/// connection would (<see cref="RedisConnectionException"/>, exit code 69).
/// </summary>
public static class RedisDurabilityCheck
{
    /// <summary>Checks every primary <paramref name="cluster"/>'s connection string names (over <paramref name="tls"/> when set); throws <see cref="ServerStartupException"/> on a non-durable one.</summary>
    public static void Verify(ClusterOptions cluster, RedisTls? tls, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(logger);
        ConfigurationOptions redis = RedisConnection.Options(cluster, tls);
        redis.AbortOnConnectFail = true;
        redis.AllowAdmin = true; // CONFIG GET; this connection runs nothing else and is closed before the silo starts
        using ConnectionMultiplexer connection = ConnectionMultiplexer.Connect(redis);
        foreach (System.Net.EndPoint endpoint in connection.GetEndPoints())
        {
            IServer server = connection.GetServer(endpoint);
            if (!server.IsConnected)
            {
                // Another endpoint answered, so start-up goes on; this one's settings stay unknown until someone looks.
                logger.LogWarning(
                    "Cannot check that Redis at {Endpoint} is durable (not connected at start-up); it must run with appendonly yes and appendfsync always, or a freeze can be lost when it restarts",
                    endpoint);
                continue;
            }
            if (server.IsReplica)
            {
                continue;
            }
            Dictionary<string, string> settings;
            try
            {
                settings = server.ConfigGet("append*").ToDictionary(setting => setting.Key, setting => setting.Value, StringComparer.OrdinalIgnoreCase);
            }
            catch (RedisServerException refused)
            {
                logger.LogWarning(
                    "Cannot check that Redis at {Endpoint} is durable (CONFIG GET refused: {Reason}); it must run with appendonly yes and appendfsync always, or a freeze can be lost when it restarts",
                    endpoint, refused.Message);
                continue;
            }
            string appendOnly = settings.GetValueOrDefault("appendonly", "?"), appendFsync = settings.GetValueOrDefault("appendfsync", "?");
            if (appendOnly.Equals("yes", StringComparison.OrdinalIgnoreCase) && appendFsync.Equals("always", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            string problem = $"Redis at {endpoint} runs with appendonly {appendOnly} and appendfsync {appendFsync}: a write it acknowledged, a freeze above all, can be lost when it restarts";
            if (!cluster.AllowNonDurableRedis)
            {
                throw new ServerStartupException(
                    $"{problem}; run it with appendonly yes and appendfsync always (docs/operations.md), or set {ClusterOptions.AllowNonDurableRedisSetting}=true to accept that");
            }
            logger.LogWarning("{Problem} ({Setting}=true accepts that)", problem, ClusterOptions.AllowNonDurableRedisSetting);
        }
    }
}
