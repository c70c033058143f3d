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

    /// <summary>Orleans silo-to-silo port; 0 picks a free one.</summary>
    public int SiloPort { get; set; }

    /// <summary>Orleans gateway port; 0 picks a free one.</summary>
    public int GatewayPort { get; set; }

    public AuthOptions Auth { get; set; } = new();

    /// <summary>Log only warnings and errors (the demo's setting).</summary>
    public bool Quiet { get; set; }
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
