using System.Net;
using System.Net.Sockets;
using Mpc.Grains;
using Mpc.Grains.Storage;
using Orleans.Configuration;
using Orleans.Hosting;
using StackExchange.Redis;

namespace Mpc.Server;

/// <summary>
/// The Orleans silo of the server: embedded (localhost clustering, grain files in the data directory) or Redis.
/// The silo runs no gateway: the gRPC service calls grains from inside the silo's own process, and a gateway would
/// accept grain calls (import seed shares, refresh factors) from anyone reaching its port, with no token.
/// </summary>
internal static class SiloSetup
{
    /// <summary>Orleans' value for "no gateway" (<see cref="EndpointOptions.GatewayPort"/>).</summary>
    private const int NoGateway = 0;

    /// <summary>
    /// Configures <paramref name="silo"/>; in Redis mode, <paramref name="tls"/> is the silo port's mutual TLS, or null when
    /// PlainSiloTraffic said plain TCP, and <paramref name="redisTls"/> the private-CA check of Redis's certificate, or null.
    /// </summary>
    public static void Configure(ISiloBuilder silo, ClusterOptions cluster, string dataDirectory, SiloTls? tls, RedisTls? redisTls)
    {
        if (!cluster.IsRedis)
        {
            if (!string.Equals(cluster.Mode, ClusterOptions.EmbeddedMode, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"Cluster mode '{cluster.Mode}' is unknown; use 'embedded' or 'redis'.");
            }
            silo.UseLocalhostClustering(
                siloPort: cluster.SiloPort ?? FreeTcpPort(),
                gatewayPort: NoGateway,
                serviceId: cluster.ServiceId,
                clusterId: "embedded");
            silo.AddFileGrainStorage(StorageNames.Keys, dataDirectory);
            return;
        }

        if (string.IsNullOrWhiteSpace(cluster.RedisConnectionString))
        {
            throw new InvalidOperationException("Redis cluster mode needs Mpc:Cluster:RedisConnectionString (env Mpc__Cluster__RedisConnectionString).");
        }
        ConfigurationOptions redis = RedisConnection.Options(cluster, redisTls);
        int siloPort = cluster.SiloPort ?? ClusterOptions.DefaultRedisSiloPort;
        IPAddress advertised = cluster.AdvertisedIPAddress is { Length: > 0 } text
            ? IPAddress.Parse(text)
            : FirstNonLoopbackAddress();
        silo.Configure<Orleans.Configuration.ClusterOptions>(o =>
        {
            o.ServiceId = cluster.ServiceId;
            o.ClusterId = cluster.ClusterId;
        });
        silo.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = advertised;
            o.SiloPort = siloPort;
            o.GatewayPort = NoGateway;
            o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, siloPort);
        });
        // Declare a dead silo within about ten seconds, and give up on a call to it soon after,
        // so a user's grain moves to a survivor quickly.
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(2);
            o.NumMissedProbesLimit = 3;
            o.NumVotesForDeathDeclaration = 2;
        });
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        if (tls is not null)
        {
            silo.UseTls(tls.Configure);
        }
        // Clone() keeps the certificate callbacks: RedisTlsClusterTests fails when these providers get options without them.
        silo.UseRedisClustering(o => o.ConfigurationOptions = redis.Clone());
        silo.AddRedisGrainStorage(StorageNames.Keys, o => o.ConfigurationOptions = redis.Clone());
    }

    private static IPAddress FirstNonLoopbackAddress() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? IPAddress.Loopback;

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
