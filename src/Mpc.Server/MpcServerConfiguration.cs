using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Mpc.Crypto.Paillier;

namespace Mpc.Server;

/// <summary>
/// Reads the <c>Mpc</c> section (appsettings.json, appsettings.{Environment}.json, environment variables, command
/// line: the host builder's sources) into <see cref="MpcServerOptions"/>, refusing at start-up, one line per
/// problem, every key that names no setting, every value that does not convert and every value out of range.
/// </summary>
public static class MpcServerConfiguration
{
    /// <summary>Binds and validates the section; throws <see cref="ServerStartupException"/> listing every problem.</summary>
    public static MpcServerOptions Bind(IConfiguration configuration)
    {
        IConfigurationSection section = configuration.GetSection(ServerSettings.Section);
        var unknown = new List<string>();
        var unconvertible = new List<string>();
        foreach ((string key, string? value) in section.AsEnumerable().OrderBy(pair => pair.Key, StringComparer.OrdinalIgnoreCase))
        {
            if (value is null)
            {
                continue;
            }
            if (ServerSettings.Find(key) is not { } setting)
            {
                // The value is not echoed: a misspelt secret setting must not reach a log.
                unknown.Add($"unknown setting {ServerSettings.EnvironmentVariable(key)}: no such setting (the settings are listed in docs/operations.md)");
            }
            else if (!setting.Accepts(value))
            {
                unconvertible.Add(MpcServerOptionsValidator.Describe(setting.Path, value, MpcServerOptionsValidator.AllowedFor(setting.Path) ?? setting.TypeDescription));
            }
        }
        // A value that does not convert cannot be bound; anything else is bound and checked, so that one run lists every problem.
        ThrowIfAny([.. unknown, .. unconvertible]);

        var options = new MpcServerOptions();
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            // The checks above mirror the binder's conversions; this is the backstop for a shape they miss (lists).
            throw new ServerStartupException(e.Message.ReplaceLineEndings(" "));
        }
        ThrowIfAny([.. unknown, .. Failures(options)]);
        return options;
    }

    /// <summary>Checks options however they were made (bound, or built in code by tests and `mpc demo`).</summary>
    public static void Validate(MpcServerOptions options) => ThrowIfAny(Failures(options));

    private static List<string> Failures(MpcServerOptions options)
    {
        ValidateOptionsResult result = new MpcServerOptionsValidator().Validate(Options.DefaultName, options);
        return result.Failed ? [.. result.Failures ?? []] : [];
    }

    private static void ThrowIfAny(List<string> problems)
    {
        if (problems.Count > 0)
        {
            throw new ServerStartupException(string.Join('\n', problems));
        }
    }
}

/// <summary>
/// The allowed values of each server setting, in one table: the start-up check and the conversion errors of
/// <see cref="MpcServerConfiguration.Bind"/> both say what is allowed from here.
/// </summary>
public sealed class MpcServerOptionsValidator : IValidateOptions<MpcServerOptions>
{
    private static readonly TimeSpan OneDay = TimeSpan.FromDays(1);
    private static readonly TimeSpan OneHour = TimeSpan.FromHours(1);
    private static readonly TimeSpan OneMinute = TimeSpan.FromMinutes(1);

    private static readonly ImmutableArray<Rule> Rules =
    [
        new("Urls", "one or more http:// or https:// listen URLs separated by ';', e.g. http://127.0.0.1:7443",
            o => o.Urls, o => ListenUrls.TryParse(o.Urls, out _)),
        // Every other listen URL (gRPC-Web, metrics) takes its scheme and host from these: one rule covers them all.
        new("Urls",
            $"https:// beyond loopback (plain http:// only on 127.0.0.1, [::1] or localhost), or {MpcServerOptions.PlainHttpBehindTlsProxySetting}=true when a TLS-terminating proxy is the only way in",
            o => o.Urls, o => o.PlainHttpBehindTlsProxy || !ListenUrls.PlainHttpBeyondLoopback(o.Urls).Any()),
        new("Urls",
            $"loopback only (127.0.0.1, [::1] or localhost) while tokens are checked with the data directory's development key: beyond loopback set " +
            $"{AuthOptions.AuthoritySetting} or {AuthOptions.PublicKeyFileSetting}, or {AuthOptions.AllowDevelopmentKeySetting}=true " +
            "if whoever holds a copy of the data directory may mint tokens for any user and for operators",
            o => o.Urls, o => !o.Auth.UsesDevelopmentKey || o.Auth.AllowDevelopmentKey || !ListenUrls.BeyondLoopback(o.Urls).Any()),
        new("Auth:AdminSubjects",
            $"operator subjects (the tokens' sub values) separated by ';', each non-empty and at most {SignerService.MaxUserIdLength} characters, or unset for any token with the scope {SignerAdminService.AdminScope}",
            o => o.Auth.AdminSubjects, o => OperatorSubjects.TryParse(o.Auth.AdminSubjects, out _)),
        new("Metrics:Port",
            "a port from 1 to 65535 that is none of the gRPC ports (of which one must be TCP), the gRPC-Web port, the probe port and the silo port, or unset for no scrape endpoint",
            o => o.Metrics.Port, ServerTelemetry.IsPortValid),
        new("Web:AllowedOrigins",
            "origins separated by ';' such as https://app.example.com (https, or http on localhost or a loopback address; no path, no wildcard), or unset for no gRPC-Web",
            o => o.Web.AllowedOrigins, o => WebOrigins.TryParse(o.Web.AllowedOrigins, out _)),
        new("Web:Port",
            "a port from 1 to 65535 that is none of the gRPC ports (of which one must be TCP), the metrics port and the silo port; required with Mpc__Web__AllowedOrigins and only with it",
            o => o.Web.Port, GrpcWebSetup.IsPortValid),
        new("Health:Port",
            "a port from 1 to 65535 that is none of the gRPC ports (of which one must be TCP), the metrics port, the gRPC-Web port and the silo port, or unset for no probe port",
            o => o.Health.Port, HealthPort.IsPortValid),
        new("Web:ServeExample",
            "true only on loopback (every listen URL and allowed origin: the page holds the browser's share, so a server that serves it could take that share), with gRPC-Web on (Mpc__Web__Port, Mpc__Web__AllowedOrigins) and Mpc__Web__ExampleDirectory (default: browser beside mpc-server) holding the published src/Mpc.Browser wwwroot (issue.html)",
            o => o.Web.ServeExample, ExampleSite.IsValid),
        new("DataDirectory", "a directory path",
            o => o.DataDirectory, o => !string.IsNullOrWhiteSpace(o.DataDirectory)),
        new("MasterKeyDirectory", "a directory path outside the data directory, or unset for <data>-kek",
            o => o.MasterKeyDirectory, o => o.MasterKeyDirectory is null || !string.IsNullOrWhiteSpace(o.MasterKeyDirectory)),
        new("Cluster:Mode", $"{ClusterOptions.EmbeddedMode} or {ClusterOptions.RedisMode}",
            o => o.Cluster.Mode, o => o.Cluster.IsRedis || string.Equals(o.Cluster.Mode, ClusterOptions.EmbeddedMode, StringComparison.OrdinalIgnoreCase)),
        new("Cluster:RedisConnectionString", "a StackExchange.Redis connection string such as redis:6379 (required when Mpc__Cluster__Mode=redis)",
            o => o.Cluster.RedisConnectionString, o => !o.Cluster.IsRedis || !string.IsNullOrWhiteSpace(o.Cluster.RedisConnectionString)),
        new("Cluster:ServiceId", "a non-empty name, the same on every silo",
            o => o.Cluster.ServiceId, o => !string.IsNullOrWhiteSpace(o.Cluster.ServiceId)),
        new("Cluster:ClusterId", "a non-empty name, the same on every silo",
            o => o.Cluster.ClusterId, o => !string.IsNullOrWhiteSpace(o.Cluster.ClusterId)),
        new("Cluster:AdvertisedIPAddress", "an IP address such as 10.0.0.5, or unset for the first non-loopback address",
            o => o.Cluster.AdvertisedIPAddress, o => string.IsNullOrEmpty(o.Cluster.AdvertisedIPAddress) || IPAddress.TryParse(o.Cluster.AdvertisedIPAddress, out _)),
        new("Cluster:SiloPort", "a port from 1 to 65535, or unset",
            o => o.Cluster.SiloPort, o => o.Cluster.SiloPort is null or (>= 1 and <= 65535)),
        // Silo-to-silo traffic carries import seed shares and refresh factors: in Redis mode it is TLS, or plain on the operator's word.
        new("Cluster:Tls:CertificatePath",
            $"mutual TLS between silos in redis mode ({ClusterTlsOptions.CertificatePathSetting}, {ClusterTlsOptions.KeyPathSetting} and " +
            $"{ClusterTlsOptions.CaPathSetting}; docs/operations.md, TLS), or {ClusterOptions.PlainSiloTrafficSetting}=true when the silo port is on a " +
            "private network only the signer pods reach",
            o => o.Cluster.Tls.CertificatePath, o => !o.Cluster.IsRedis || o.Cluster.Tls.IsAnySet || o.Cluster.PlainSiloTraffic),
        TlsFile("Cluster:Tls:CertificatePath", "this silo's PEM certificate", o => o.Cluster.Tls.CertificatePath),
        TlsFile("Cluster:Tls:KeyPath", "the PEM private key of that certificate", o => o.Cluster.Tls.KeyPath),
        TlsFile("Cluster:Tls:CaPath", "the PEM CA certificate(s) that every silo's certificate chains to", o => o.Cluster.Tls.CaPath),
        new("Cluster:PlainSiloTraffic",
            $"false (or unset) while {ClusterTlsOptions.CertificatePathSetting}, {ClusterTlsOptions.KeyPathSetting} and {ClusterTlsOptions.CaPathSetting} are set: silo traffic is then TLS",
            o => o.Cluster.PlainSiloTraffic ? "true" : "false", o => !(o.Cluster.PlainSiloTraffic && o.Cluster.Tls.IsAnySet)),
        // Redis holds each key's status record: whoever rewrites or replays it on the way undoes a freeze. Beyond loopback it is TLS, or plain on the operator's word.
        new("Cluster:RedisConnectionString",
            $"ssl=true in the connection string for a Redis beyond loopback (with {ClusterRedisOptions.CaPathSetting} for a private CA; docs/operations.md, TLS), " +
            $"or {ClusterOptions.PlainRedisTrafficSetting}=true when only the signer pods and Redis reach the network between them",
            o => o.Cluster.RedisConnectionString,
            o => !o.Cluster.IsRedis || o.Cluster.PlainRedisTraffic
                || RedisConnection.UsesTls(o.Cluster.RedisConnectionString) != false || RedisConnection.IsLoopbackOnly(o.Cluster.RedisConnectionString) != false),
        new("Cluster:Redis:CaPath",
            "the PEM CA certificate(s) that Redis's certificate chains to, with ssl=true in Mpc__Cluster__RedisConnectionString",
            o => o.Cluster.Redis.CaPath,
            o => string.IsNullOrEmpty(o.Cluster.Redis.CaPath) || RedisConnection.UsesTls(o.Cluster.RedisConnectionString) != false),
        new("Cluster:Redis:CaPath",
            $"the PEM CA certificate(s) that Redis's certificate chains to, set with {ClusterRedisOptions.CertificatePathSetting} and {ClusterRedisOptions.KeyPathSetting}",
            o => o.Cluster.Redis.CaPath,
            o => !string.IsNullOrEmpty(o.Cluster.Redis.CaPath) || (string.IsNullOrEmpty(o.Cluster.Redis.CertificatePath) && string.IsNullOrEmpty(o.Cluster.Redis.KeyPath))),
        RedisClientFile("Cluster:Redis:CertificatePath", "the PEM client certificate presented to Redis", o => o.Cluster.Redis.CertificatePath),
        RedisClientFile("Cluster:Redis:KeyPath", "the PEM private key of that certificate", o => o.Cluster.Redis.KeyPath),
        new("Cluster:PlainRedisTraffic",
            $"false (or unset) while Mpc__Cluster__RedisConnectionString says ssl=true or {ClusterRedisOptions.CaPathSetting} is set: Redis traffic is then TLS",
            o => o.Cluster.PlainRedisTraffic ? "true" : "false",
            o => !(o.Cluster.PlainRedisTraffic && (RedisConnection.UsesTls(o.Cluster.RedisConnectionString) == true || !string.IsNullOrEmpty(o.Cluster.Redis.CaPath)))),
        new("KeyEncryption:Provider", $"{KeyEncryptionOptions.FileProvider} or {KeyEncryptionOptions.Pkcs11Provider}",
            o => o.KeyEncryption.Provider, o => o.KeyEncryption.Provider is KeyEncryptionOptions.FileProvider or KeyEncryptionOptions.Pkcs11Provider),
        new("KeyEncryption:Pkcs11:KeyLabel", "a non-empty label",
            o => o.KeyEncryption.Pkcs11.KeyLabel, o => !string.IsNullOrWhiteSpace(o.KeyEncryption.Pkcs11.KeyLabel)),
        new("KeyEncryption:Pkcs11:PinEnvironmentVariable", "the name of an environment variable",
            o => o.KeyEncryption.Pkcs11.PinEnvironmentVariable, o => !string.IsNullOrWhiteSpace(o.KeyEncryption.Pkcs11.PinEnvironmentVariable)),
        new("Signer:PaillierModulusBits",
            $"an even number of bits from {PaillierPublicKey.MinimumModulusBits} to {PaillierPublicKey.MaximumModulusBits} (2048 or 3072 are usual)",
            o => o.Signer.PaillierModulusBits,
            o => o.Signer.PaillierModulusBits is >= PaillierPublicKey.MinimumModulusBits and <= PaillierPublicKey.MaximumModulusBits && o.Signer.PaillierModulusBits % 2 == 0),
        Duration("Signer:KeyGenSessionLifetime", o => o.Signer.KeyGenSessionLifetime, OneDay),
        Duration("Signer:SignSessionLifetime", o => o.Signer.SignSessionLifetime, OneDay),
        Duration("Signer:OpenedSignSessionLifetime", o => o.Signer.OpenedSignSessionLifetime, OneDay),
        new("Signer:MaxUnopenedCommitmentsPerDevice", "a whole number, 1 or more",
            o => o.Signer.MaxUnopenedCommitmentsPerDevice, o => o.Signer.MaxUnopenedCommitmentsPerDevice >= 1),
        new("Signer:MaxOpenSessionsPerKey", "a whole number, 1 or more",
            o => o.Signer.MaxOpenSessionsPerKey, o => o.Signer.MaxOpenSessionsPerKey >= 1),
        new("Signer:MaxSignaturesPerKey", "a whole number, 0 (no limit) or more",
            o => o.Signer.MaxSignaturesPerKey, o => o.Signer.MaxSignaturesPerKey >= 0),
        Duration("Signer:SignatureRateWindow", o => o.Signer.SignatureRateWindow, OneDay),
        new("Signer:MaxPaillierKeysPerUser", "a whole number, 0 (no limit) or more",
            o => o.Signer.MaxPaillierKeysPerUser, o => o.Signer.MaxPaillierKeysPerUser >= 0),
        Duration("Signer:PaillierKeyRateWindow", o => o.Signer.PaillierKeyRateWindow, OneDay),
        new("Signer:MaxCertificateChainsPerUser", "a whole number, 0 (no limit) or more",
            o => o.Signer.MaxCertificateChainsPerUser, o => o.Signer.MaxCertificateChainsPerUser >= 0),
        Duration("Signer:CertificateChainRateWindow", o => o.Signer.CertificateChainRateWindow, OneDay),
        DurationFromZero("Signer:FinalCheckMarkerClearDelay", o => o.Signer.FinalCheckMarkerClearDelay, OneHour),
        Duration("Signer:AuditFlushInterval", o => o.Signer.AuditFlushInterval, OneHour),
        new("KeyGen:PrimePoolSize", $"a whole number from 0 (no pool) to {MaxPrimePoolSize}",
            o => o.KeyGen.PrimePoolSize, o => o.KeyGen.PrimePoolSize is >= 0 and <= MaxPrimePoolSize),
        DurationFromZero("KeyGen:PrimePoolQuietPeriod", o => o.KeyGen.PrimePoolQuietPeriod, OneMinute, zeroMeans: "never wait"),
        new("KeyGen:VerifiedParametersCacheSize", $"a whole number from 0 (verify every time) to {MaxVerifiedParametersCacheSize}",
            o => o.KeyGen.VerifiedParametersCacheSize, o => o.KeyGen.VerifiedParametersCacheSize is >= 0 and <= MaxVerifiedParametersCacheSize),
    ];

    /// <summary>Each remembered parameter set is one 64-character fingerprint and a list node (about 250 bytes).</summary>
    private const int MaxVerifiedParametersCacheSize = 1_000_000;

    /// <summary>Each pooled key holds two primes, their CRT contexts and one set of Πprm commitments (about 70 KiB) and costs a prime search to make.</summary>
    private const int MaxPrimePoolSize = 256;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, MpcServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string[] failures = Rules.Where(rule => !rule.Holds(options)).Select(rule => Describe(rule.Path, rule.Value(options), rule.Allowed)).ToArray();
        return failures.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>What a setting allows, by configuration path ("Mpc:Signer:MaxSignaturesPerKey"); null when any value of its type is fine.</summary>
    public static string? AllowedFor(string path)
    {
        string relative = path.StartsWith(ServerSettings.Section + ":", StringComparison.OrdinalIgnoreCase)
            ? path[(ServerSettings.Section.Length + 1)..]
            : path;
        return Rules.FirstOrDefault(rule => string.Equals(rule.Path, relative, StringComparison.OrdinalIgnoreCase))?.Allowed;
    }

    /// <summary>One line: the setting, its value (unless it may hold a secret) and what is allowed.</summary>
    internal static string Describe(string path, object? value, string allowed)
    {
        string fullPath = path.StartsWith(ServerSettings.Section + ":", StringComparison.OrdinalIgnoreCase) ? path : ServerSettings.Section + ":" + path;
        string setting = ServerSettings.EnvironmentVariable(fullPath);
        string text = value switch
        {
            null => "",
            TimeSpan duration => duration.ToString("c", CultureInfo.InvariantCulture),
            IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        if (string.IsNullOrWhiteSpace(text))
        {
            return $"setting {setting} is not set: expected {allowed}";
        }
        string shown = MayHoldSecret(fullPath) ? "(value hidden)" : $"'{text.ReplaceLineEndings(" ")}'";
        return $"setting {setting}={shown} is not allowed: expected {allowed}";
    }

    private static bool MayHoldSecret(string path) =>
        path.Contains("ConnectionString", StringComparison.OrdinalIgnoreCase) ||
        path.Contains("Password", StringComparison.OrdinalIgnoreCase) ||
        path.Contains("Secret", StringComparison.OrdinalIgnoreCase);

    private static Rule Duration(string path, Func<MpcServerOptions, TimeSpan> value, TimeSpan maximum) =>
        new(path, $"a duration above 00:00:00 and at most {maximum.ToString("c", CultureInfo.InvariantCulture)}",
            o => value(o), o => value(o) > TimeSpan.Zero && value(o) <= maximum);

    /// <summary>One of the three silo TLS files: set when either of the others is (half a TLS set-up is no TLS).</summary>
    private static Rule TlsFile(string path, string what, Func<MpcServerOptions, string?> value) =>
        new(path,
            $"{what}, set together with the other two of {ClusterTlsOptions.CertificatePathSetting}, {ClusterTlsOptions.KeyPathSetting} and {ClusterTlsOptions.CaPathSetting}",
            o => value(o), o => !string.IsNullOrEmpty(value(o)) || !o.Cluster.Tls.IsAnySet);

    /// <summary>One of the two Redis client certificate files: set when the other is (a certificate without its key, or a key alone, presents nothing).</summary>
    private static Rule RedisClientFile(string path, string what, Func<MpcServerOptions, string?> value) =>
        new(path,
            $"{what}, set together with the other of {ClusterRedisOptions.CertificatePathSetting} and {ClusterRedisOptions.KeyPathSetting}",
            o => value(o), o => !string.IsNullOrEmpty(value(o)) || (string.IsNullOrEmpty(o.Cluster.Redis.CertificatePath) && string.IsNullOrEmpty(o.Cluster.Redis.KeyPath)));

    /// <summary>A duration where zero is allowed (and means <paramref name="zeroMeans"/>, when given).</summary>
    private static Rule DurationFromZero(string path, Func<MpcServerOptions, TimeSpan> value, TimeSpan maximum, string? zeroMeans = null) =>
        new(path, $"a duration from 00:00:00{(zeroMeans is null ? "" : $" ({zeroMeans})")} to {maximum.ToString("c", CultureInfo.InvariantCulture)}",
            o => value(o), o => value(o) >= TimeSpan.Zero && value(o) <= maximum);

    /// <summary>One setting's rule; <see cref="Path"/> is relative to the Mpc section.</summary>
    private sealed record Rule(string Path, string Allowed, Func<MpcServerOptions, object?> Value, Func<MpcServerOptions, bool> Holds);
}
