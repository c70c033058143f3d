using System.Net;
using StackExchange.Redis;

namespace Mpc.Server;

/// <summary>
/// The one way the server turns its Redis settings into StackExchange.Redis options, so that every connection (the
/// silo's clustering and grain storage, whose providers clone these, and the start-up durability check) gets the same
/// TLS checks.
/// </summary>
internal static class RedisConnection
{
    /// <summary>The options of <paramref name="cluster"/>'s connection string, with <paramref name="tls"/>'s checks when set.</summary>
    public static ConfigurationOptions Options(ClusterOptions cluster, RedisTls? tls)
    {
        ConfigurationOptions redis = ConfigurationOptions.Parse(cluster.RedisConnectionString!);
        // A key store must not give up on a brief Redis restart: keep retrying the connection.
        redis.AbortOnConnectFail = false;
        tls?.Apply(redis);
        return redis;
    }

    /// <summary>Whether <paramref name="connectionString"/> says ssl=true; null when it does not parse (the connection then fails on its own).</summary>
    public static bool? UsesTls(string? connectionString) => TryParse(connectionString)?.Ssl;

    /// <summary>Whether every endpoint of <paramref name="connectionString"/> is a loopback host; null when it does not parse.</summary>
    public static bool? IsLoopbackOnly(string? connectionString) =>
        TryParse(connectionString) is { } redis
            ? redis.EndPoints.Count > 0 && redis.EndPoints.All(IsLoopback)
            : null;

    private static bool IsLoopback(EndPoint endpoint) => endpoint switch
    {
        IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
        DnsEndPoint dns => ListenUrls.IsLoopbackHost(dns.Host),
        _ => false,
    };

    private static ConfigurationOptions? TryParse(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return null;
        }
        try
        {
            return ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
