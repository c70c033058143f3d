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

    /// <summary>
    /// gRPC endpoints (HTTP/2): https:// (certificate from Kestrel__Certificates__Default__*), or plain http:// on
    /// loopback; plain http:// beyond loopback only with <see cref="PlainHttpBehindTlsProxy"/>.
    /// </summary>
    public string Urls { get; set; } = "http://127.0.0.1:7443";

    /// <summary>The configuration key, as an environment variable.</summary>
    public const string PlainHttpBehindTlsProxySetting = "Mpc__PlainHttpBehindTlsProxy";

    /// <summary>
    /// The operator's word that a TLS-terminating proxy (an ingress, a load balancer, a mesh sidecar) is the only way
    /// clients reach a plain http:// listen URL beyond loopback. Off, such a URL is refused at start-up: bearer tokens,
    /// refresh randomisers and import seed shares would otherwise cross the network in clear. On, the server starts and
    /// logs one warning naming those URLs.
    /// </summary>
    public bool PlainHttpBehindTlsProxy { get; set; }

    /// <summary>How silos find each other and where grain state lives.</summary>
    public ClusterOptions Cluster { get; set; } = new();

    public AuthOptions Auth { get; set; } = new();

    /// <summary>Which key-encryption key seals the server shares: the master key file (default) or a PKCS#11 token.</summary>
    public KeyEncryptionOptions KeyEncryption { get; set; } = new();

    /// <summary>Log only warnings and errors (the demo's setting).</summary>
    public bool Quiet { get; set; }

    /// <summary>Key and signing policy (Mpc__Signer__*): rate limit, session limits, audit flush interval.</summary>
    public Mpc.Grains.SignerOptions Signer { get; set; } = new();

    /// <summary>The Prometheus scrape endpoint (Mpc__Metrics__Port); off unless a port is given.</summary>
    public MetricsOptions Metrics { get; set; } = new();

    /// <summary>The plain-text port for kubelet health probes (Mpc__Health__Port); off unless a port is given.</summary>
    public HealthOptions Health { get; set; } = new();

    /// <summary>gRPC-Web for browser clients (Mpc__Web__AllowedOrigins); off unless an origin is given.</summary>
    public WebOptions Web { get; set; } = new();

    /// <summary>The big-number backend (Mpc__BigNum__Backend); the server refuses a variable-time one unless it is named.</summary>
    public BigNumServerOptions BigNum { get; set; } = new();

    /// <summary>The pool of ready Paillier keys for key generation and refresh (Mpc__KeyGen__PrimePoolSize, Mpc__KeyGen__PrimePoolRefill, Mpc__KeyGen__PrimePoolQuietPeriod), and the memory of verified client parameters.</summary>
    public KeyGenServerOptions KeyGen { get; set; } = new();
}

/// <summary>
/// Paillier keys (Blum prime pairs) made ahead of time, in memory only, so no prime search is on a key
/// generation's or refresh's critical path. A request the pool cannot serve generates inline.
/// </summary>
public sealed class KeyGenServerOptions
{
    /// <summary>The most ready keys held (0 turns the pool off); each is the size of Signer:PaillierModulusBits.</summary>
    public int PrimePoolSize { get; set; } = 16;

    /// <summary>
    /// How long the refill waits after a key is taken before it searches for the next one, while more than a quarter of
    /// the pool is left (Mpc__KeyGen__PrimePoolQuietPeriod): a burst of key generations then has the cores to itself.
    /// </summary>
    public TimeSpan PrimePoolQuietPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether a low-priority background thread keeps the pool full; off leaves it empty (every request generates inline).</summary>
    public bool PrimePoolRefill { get; set; } = true;

    /// <summary>
    /// How many client ring-Pedersen parameter sets (per user, per silo) the server remembers as verified, so a device
    /// that reuses its parameters skips their Πprm verification (0 verifies every time; Mpc__KeyGen__VerifiedParametersCacheSize).
    /// </summary>
    public int VerifiedParametersCacheSize { get; set; } = 10_000;
}

/// <summary>Which big-number backend runs the Paillier and proof arithmetic.</summary>
public sealed class BigNumServerOptions
{
    /// <summary>The configuration key, as an environment variable.</summary>
    public const string Setting = "Mpc__BigNum__Backend";

    /// <summary>
    /// "openssl", "managed" or "auto"; unset falls back to MPC_BIGNUM_BACKEND, then "auto". Both "auto" and
    /// "openssl" require libcrypto: the server starts on the managed (variable-time) backend only when
    /// "managed" is named here or in MPC_BIGNUM_BACKEND.
    /// </summary>
    public string? Backend { get; set; }
}

/// <summary>
/// Embedded (one process, state in files under the data directory) or Redis (any number of silos sharing
/// Redis for membership and grain state; every silo serves gRPC and reaches any user's grain).
/// </summary>
public sealed class ClusterOptions
{
    public const string EmbeddedMode = "embedded";
    public const string RedisMode = "redis";

    /// <summary>The silo port in Redis mode when <see cref="SiloPort"/> is unset.</summary>
    public const int DefaultRedisSiloPort = 11111;

    /// <summary>"embedded" (default) or "redis".</summary>
    public string Mode { get; set; } = EmbeddedMode;

    /// <summary>StackExchange.Redis connection string, e.g. "redis:6379"; required in Redis mode.</summary>
    public string? RedisConnectionString { get; set; }

    public string ServiceId { get; set; } = "mpc-signer";

    public string ClusterId { get; set; } = "mpc-signer";

    /// <summary>The address other silos reach this one at (Kubernetes: status.podIP); null picks the first non-loopback IPv4 address.</summary>
    public string? AdvertisedIPAddress { get; set; }

    /// <summary>
    /// Silo-to-silo port (mutual TLS with <see cref="Tls"/>, else plain TCP on <see cref="PlainSiloTraffic"/>); null:
    /// 11111 in Redis mode, a free port in embedded mode. There is no gateway port: the silo runs without an Orleans gateway.
    /// </summary>
    public int? SiloPort { get; set; }

    /// <summary>Mutual TLS on the silo port (Redis mode): this silo's certificate and key, and the CA its peers' certificates chain to.</summary>
    public ClusterTlsOptions Tls { get; set; } = new();

    public const string PlainSiloTrafficSetting = "Mpc__Cluster__PlainSiloTraffic";

    /// <summary>
    /// The operator's word that the silo port is on a private network only the signer pods reach (a NetworkPolicy, a
    /// mesh with mTLS). Off, Redis mode without <see cref="Tls"/> is refused at start-up: grain calls between silos carry
    /// import seed shares and refresh factors. On, the silo starts without TLS and logs one warning. Embedded mode (one
    /// silo on loopback, no silo-to-silo traffic) needs neither.
    /// </summary>
    public bool PlainSiloTraffic { get; set; }

    /// <summary>TLS to Redis: the CA(s) Redis's certificate must chain to, and a client certificate for Redis's tls-auth-clients.</summary>
    public ClusterRedisOptions Redis { get; set; } = new();

    public const string PlainRedisTrafficSetting = "Mpc__Cluster__PlainRedisTraffic";

    /// <summary>
    /// The operator's word that the path between the silos and a Redis beyond loopback is a private network only the
    /// signer pods and Redis reach (a NetworkPolicy). Off, a connection string without ssl=true to a host that is not
    /// loopback is refused at start-up: Redis holds each key's status record, and whoever can rewrite or replay it on
    /// the way can undo a freeze. On, the server starts and logs one warning. Loopback Redis needs neither.
    /// </summary>
    public bool PlainRedisTraffic { get; set; }

    public const string AllowNonDurableRedisSetting = "Mpc__Cluster__AllowNonDurableRedis";

    /// <summary>
    /// Start on a Redis that does not write every acknowledged write to disk before replying (appendonly yes,
    /// appendfsync always). Off by default: on such a Redis a freeze can be lost when it restarts.
    /// </summary>
    public bool AllowNonDurableRedis { get; set; }

    public bool IsRedis => string.Equals(Mode, RedisMode, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Mutual TLS between silos: every silo presents <see cref="CertificatePath"/> and accepts a peer only if the peer's
/// certificate chains to a CA of <see cref="CaPath"/> (those CAs alone, never the system's roots). All three or none.
/// </summary>
public sealed class ClusterTlsOptions
{
    public const string CertificatePathSetting = "Mpc__Cluster__Tls__CertificatePath";
    public const string KeyPathSetting = "Mpc__Cluster__Tls__KeyPath";
    public const string CaPathSetting = "Mpc__Cluster__Tls__CaPath";

    /// <summary>This silo's certificate (PEM; the first certificate in the file), usable for both TLS server and client authentication.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The certificate's private key (PEM, unencrypted: PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY).</summary>
    public string? KeyPath { get; set; }

    /// <summary>The CA certificate(s) (PEM) that issue silo certificates; during a CA rotation, the old and the new one.</summary>
    public string? CaPath { get; set; }

    /// <summary>Whether any of the three is set.</summary>
    public bool IsAnySet => !string.IsNullOrEmpty(CertificatePath) || !string.IsNullOrEmpty(KeyPath) || !string.IsNullOrEmpty(CaPath);

    /// <summary>Whether all three are set.</summary>
    public bool IsSet => !string.IsNullOrEmpty(CertificatePath) && !string.IsNullOrEmpty(KeyPath) && !string.IsNullOrEmpty(CaPath);
}

/// <summary>
/// TLS to Redis (ssl=true in the connection string): Redis's certificate must chain to a CA of <see cref="CaPath"/>
/// (those CAs alone, never the system's roots) and name the host (sslHost, else the endpoint's host); with
/// <see cref="CertificatePath"/> and <see cref="KeyPath"/>, the silo presents that certificate (Redis tls-auth-clients).
/// </summary>
public sealed class ClusterRedisOptions
{
    public const string CaPathSetting = "Mpc__Cluster__Redis__CaPath";
    public const string CertificatePathSetting = "Mpc__Cluster__Redis__CertificatePath";
    public const string KeyPathSetting = "Mpc__Cluster__Redis__KeyPath";

    /// <summary>The CA certificate(s) (PEM) that issue Redis's server certificate; during a CA rotation, the old and the new one.</summary>
    public string? CaPath { get; set; }

    /// <summary>The client certificate (PEM) presented to Redis, usable for TLS client authentication; with <see cref="KeyPath"/> and <see cref="CaPath"/>.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The client certificate's private key (PEM, unencrypted: PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY).</summary>
    public string? KeyPath { get; set; }

    /// <summary>Whether a client certificate is set (both files).</summary>
    public bool HasClientCertificate => !string.IsNullOrEmpty(CertificatePath) && !string.IsNullOrEmpty(KeyPath);
}

/// <summary>
/// Bearer-token validation. Tokens are signed by one of: an OpenID Connect identity provider (<see cref="Authority"/>:
/// discovery and JWKS, cached and refreshed), a static public key (<see cref="PublicKeyFile"/>), or, with neither,
/// the data directory's development key (loopback only, unless <see cref="AllowDevelopmentKey"/>).
/// </summary>
public sealed class AuthOptions
{
    public const string DevelopmentIssuer = "mpc-signer-dev";

    public const string AuthoritySetting = "Mpc__Auth__Authority";
    public const string MetadataAddressSetting = "Mpc__Auth__MetadataAddress";
    public const string RequireHttpsMetadataSetting = "Mpc__Auth__RequireHttpsMetadata";
    public const string PublicKeyFileSetting = "Mpc__Auth__PublicKeyFile";
    public const string KeysRefreshIntervalSetting = "Mpc__Auth__KeysRefreshInterval";
    public const string KeysMinimumRefreshIntervalSetting = "Mpc__Auth__KeysMinimumRefreshInterval";
    public const string AllowDevelopmentKeySetting = "Mpc__Auth__AllowDevelopmentKey";
    public const string AdminSubjectsSetting = "Mpc__Auth__AdminSubjects";

    /// <summary>
    /// The token issuer required. Null: <see cref="DevelopmentIssuer"/> with the development or a static key;
    /// the discovery document's issuer with an <see cref="Authority"/>.
    /// </summary>
    public string? Issuer { get; set; }

    public string Audience { get; set; } = "mpc-signer";

    /// <summary>PEM public key (EC or RSA, or a certificate) that signs tokens; null uses the data directory's development key.</summary>
    public string? PublicKeyFile { get; set; }

    /// <summary>
    /// The OpenID Connect identity provider (its issuer URL, https): signing keys come from its discovery
    /// document's jwks_uri, are cached and refetched (on schedule, and when a token names an unknown kid).
    /// Exclusive with <see cref="PublicKeyFile"/>.
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>Neither <see cref="Authority"/> nor <see cref="PublicKeyFile"/>: tokens are checked with the data directory's development key.</summary>
    public bool UsesDevelopmentKey => string.IsNullOrEmpty(Authority) && string.IsNullOrEmpty(PublicKeyFile);

    /// <summary>
    /// The operator's word that the development key may check tokens on a listen URL beyond loopback (a container
    /// whose port is published on the host's loopback only). Off, such a start is refused: the development key's
    /// private half lies in the data directory, so whoever holds a copy of it can mint tokens for any user and for
    /// operators. On, the server starts and logs one warning.
    /// </summary>
    public bool AllowDevelopmentKey { get; set; }

    /// <summary>
    /// The subjects (the tokens' "sub" claim) allowed to make operator calls, separated by ';'. Set, an operator call
    /// needs both the scope mpc.admin and a listed subject; unset, the scope alone, and the identity provider must
    /// then issue that scope only to a dedicated admin client.
    /// </summary>
    public string? AdminSubjects { get; set; }

    /// <summary>The discovery document's URL when it is not <see cref="Authority"/> + "/.well-known/openid-configuration".</summary>
    public string? MetadataAddress { get; set; }

    /// <summary>Metadata and keys over https only. False is accepted only for a loopback authority (a test identity provider).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>How long fetched discovery metadata and keys are used before they are fetched again.</summary>
    public TimeSpan KeysRefreshInterval { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// The shortest time between two fetches forced by a token signed with an unknown kid (a key rotation), so a
    /// flood of such tokens cannot make the server hammer the identity provider. At least one second.
    /// </summary>
    public TimeSpan KeysMinimumRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>The key-encryption key (master key) that wraps every sealed share's data key.</summary>
public sealed class KeyEncryptionOptions
{
    public const string FileProvider = "file";
    public const string Pkcs11Provider = "pkcs11";

    /// <summary>"file" (master.key in <see cref="MpcServerOptions.MasterKeyDirectory"/>) or "pkcs11" (a key inside an HSM).</summary>
    public string Provider { get; set; } = FileProvider;

    public Pkcs11ServerOptions Pkcs11 { get; set; } = new();
}

/// <summary>
/// The PKCS#11 token holding the master key. The PIN is never part of the configuration itself: it is read
/// from <see cref="PinFile"/> (owner-only) or, without one, from the environment variable
/// <see cref="PinEnvironmentVariable"/>.
/// </summary>
public sealed class Pkcs11ServerOptions
{
    public const string DefaultPinEnvironmentVariable = "MPC_PKCS11_PIN";

    /// <summary>The PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so.</summary>
    public string? LibraryPath { get; set; }

    public string? TokenLabel { get; set; }

    public string KeyLabel { get; set; } = Mpc.Grains.Sealing.Pkcs11Options.DefaultKeyLabel;

    /// <summary>A file holding the user PIN (trailing newline ignored); must not be readable by group or others.</summary>
    public string? PinFile { get; set; }

    public string PinEnvironmentVariable { get; set; } = DefaultPinEnvironmentVariable;

    /// <summary>Generate the master key in the token if it is missing (first set-up).</summary>
    public bool CreateKeyIfMissing { get; set; }
}
