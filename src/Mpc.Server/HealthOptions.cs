namespace Mpc.Server;

/// <summary>The plain-text probe port (Mpc__Health__Port); docs/operations.md ("Ports and probes") describes it.</summary>
public sealed class HealthOptions
{
    /// <summary>The configuration key, as an environment variable.</summary>
    public const string PortSetting = "Mpc__Health__Port";

    /// <summary>
    /// Port of a plain http:// (h2c) endpoint, on the same host(s) as the gRPC URLs whatever their scheme, serving only
    /// grpc.health.v1.Health: a kubelet's native gRPC probe cannot speak TLS, so with https:// gRPC URLs it needs a
    /// port of its own. Every other call there is refused, so no token or key material ever crosses it.
    /// Null (the default) opens no such port; health is answered on the gRPC port either way.
    /// </summary>
    public int? Port { get; set; }
}
