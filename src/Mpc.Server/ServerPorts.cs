namespace Mpc.Server;

/// <summary>
/// The rule the ports opened beside the gRPC URLs share (metrics, gRPC-Web, probe): each a port of its own. A clash of two of
/// them is one line: the rule of the later setting names the earlier (the probe port's names the metrics port, not
/// the other way round), as the gRPC-Web port's names the metrics port.
/// </summary>
internal static class ServerPorts
{
    /// <summary>
    /// <paramref name="listenUrls"/> and, when <paramref name="port"/> is set and <paramref name="grpcUrls"/> parse,
    /// <paramref name="port"/> on each distinct host of the TCP gRPC URLs, in their scheme or in <paramref name="scheme"/>.
    /// </summary>
    public static string AddBesideGrpc(string listenUrls, string grpcUrls, int? port, string? scheme = null)
    {
        if (port is not { } beside || !ListenUrls.TryParse(grpcUrls, out var grpc))
        {
            return listenUrls;
        }
        IEnumerable<string> added = grpc.Where(url => url.Port >= 0)
            .Select(url => $"{scheme ?? url.Scheme}://{url.Host}:{beside}")
            .Distinct(StringComparer.OrdinalIgnoreCase);
        return string.Join(';', [listenUrls, .. added]);
    }

    /// <summary>The silo's port as the rules see it: the one set, Redis mode's default, or none (embedded mode picks a free one).</summary>
    public static int? Silo(MpcServerOptions options) =>
        options.Cluster.SiloPort ?? (options.Cluster.IsRedis ? ClusterOptions.DefaultRedisSiloPort : null);

    /// <summary>
    /// True when <paramref name="port"/> is from 1 to 65535, a TCP gRPC URL gives it a host, and it is none of the gRPC
    /// ports, the silo port and <paramref name="earlier"/>; also when the gRPC URLs do not parse (their own rule
    /// reports them; one problem, one line).
    /// </summary>
    public static bool IsOwnPort(MpcServerOptions options, int port, params int?[] earlier)
    {
        if (!ListenUrls.TryParse(options.Urls, out var grpc))
        {
            return true;
        }
        return port is >= 1 and <= 65535
            && grpc.Any(url => url.Port >= 0) && grpc.All(url => url.Port != port)
            && port != Silo(options) && !earlier.Contains(port);
    }
}
