namespace Mpc.Server;

/// <summary>The Prometheus scrape endpoint (Mpc__Metrics__Port); docs/operations.md describes it.</summary>
public sealed class MetricsOptions
{
    /// <summary>The configuration key, as an environment variable.</summary>
    public const string PortSetting = "Mpc__Metrics__Port";

    /// <summary>The scrape path.</summary>
    public const string Path = "/metrics";

    /// <summary>
    /// Port of the plain HTTP/1.1 endpoint serving only <see cref="Path"/>, on the same host(s) and scheme as the gRPC
    /// URLs. It cannot share the gRPC port, which speaks HTTP/2 only (Prometheus scrapes over HTTP/1.1).
    /// Null (the default) serves no scrape endpoint.
    /// </summary>
    public int? Port { get; set; }
}
