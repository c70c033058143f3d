namespace Mpc.Server;

/// <summary>How the server runs. The defaults give the embedded mode: one process, nothing else to install.</summary>
public sealed class MpcServerOptions
{
    /// <summary>Where keys (sealed), the master key and the development token key live.</summary>
    public string DataDirectory { get; set; } = "mpc-data";

    /// <summary>
    /// Directory holding the file key-encryption key (master.key). Kept apart from <see cref="DataDirectory"/>
    /// so that a copy of the data directory (a backup, a stolen disk image) decrypts nothing. Default:
    /// a sibling directory named after the data directory with "-kek" appended.
    /// </summary>
    public string? MasterKeyDirectory { get; set; }

    /// <summary>The directory that actually holds the master key.</summary>
    public string ResolvedMasterKeyDirectory => Path.GetFullPath(MasterKeyDirectory ?? Path.GetFullPath(DataDirectory).TrimEnd(Path.DirectorySeparatorChar) + "-kek");

    /// <summary>gRPC endpoints (HTTP/2; plain http only on loopback or behind a TLS-terminating proxy).</summary>
    public string Urls { get; set; } = "http://127.0.0.1:7443";

    /// <summary>How silos find each other and where grain state lives.</summary>
    public ClusterOptions Cluster { get; set; } = new();

    public AuthOptions Auth { get; set; } = new();

    /// <summary>Log only warnings and errors (the demo's setting).</summary>
    public bool Quiet { get; set; }
}

/// <summary>
/// Embedded (one process, state in files under the data directory) or Redis (any number of silos sharing
/// Redis for membership and grain state; every silo serves gRPC and reaches any user's grain).
/// </summary>
public sealed class ClusterOptions
{
    public const string Embedded = "embedded";
    public const string Redis = "redis";

    /// <summary>"embedded" (default) or "redis".</summary>
    public string Mode { get; set; } = Embedded;

    /// <summary>StackExchange.Redis connection string, e.g. "redis:6379"; required in Redis mode.</summary>
    public string? RedisConnectionString { get; set; }

    public string ServiceId { get; set; } = "mpc-signer";

    public string ClusterId { get; set; } = "mpc-signer";

    /// <summary>The address other silos reach this one at (Kubernetes: status.podIP); null picks the first non-loopback IPv4 address.</summary>
    public string? AdvertisedIPAddress { get; set; }

    /// <summary>Silo-to-silo port; null: 11111 in Redis mode, a free port in embedded mode.</summary>
    public int? SiloPort { get; set; }

    /// <summary>Orleans gateway port; null: 30000 in Redis mode, a free port in embedded mode.</summary>
    public int? GatewayPort { get; set; }

    public bool IsRedis => string.Equals(Mode, Redis, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Bearer-token validation. Without a public key file the server uses its development key.</summary>
public sealed class AuthOptions
{
    public const string DevelopmentIssuer = "mpc-signer-dev";

    public string Issuer { get; set; } = DevelopmentIssuer;

    public string Audience { get; set; } = "mpc-signer";

    /// <summary>PEM public key (EC or RSA) that signs tokens; null uses the data directory's development key.</summary>
    public string? PublicKeyFile { get; set; }
}
