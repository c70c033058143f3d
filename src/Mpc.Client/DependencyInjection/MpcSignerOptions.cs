using Mpc.Client.DeviceProfiles;

namespace Mpc.Client.DependencyInjection;

/// <summary>
/// Settings of the <see cref="MpcSignerClient"/> that <c>services.AddMpcSigner(...)</c> registers, bindable from
/// configuration (section "MpcSigner" by convention). Checked once, when the client is first resolved (or at start
/// with a host): a bad value fails with an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> that
/// names the setting.
/// </summary>
public sealed class MpcSignerOptions
{
    /// <summary>The configuration section <c>AddMpcSigner(configuration)</c> reads when given a whole configuration.</summary>
    public const string SectionName = "MpcSigner";

    /// <summary>The server (https://signer.example:7443; http only to loopback unless <see cref="AllowInsecureHttp"/>). Required.</summary>
    public Uri? Address { get; set; }

    /// <summary>A fixed bearer token. Exactly one of this and <see cref="TokenProvider"/> is required.</summary>
    public string? Token { get; set; }

    /// <summary>Called before every request for a fresh bearer token (not bindable from configuration).</summary>
    public Func<CancellationToken, ValueTask<string>>? TokenProvider { get; set; }

    /// <summary>See <see cref="MpcSignerClientOptions.AllowInsecureHttp"/>.</summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>
    /// PEM or DER files of a private CA to trust for the server's certificate instead of the system's roots
    /// (<see cref="MpcSignerClientOptions.TrustedCaCertificates"/>). Empty: the system's trust store.
    /// </summary>
    public IList<string> TrustedCaCertificateFiles { get; } = [];

    /// <summary>See <see cref="MpcSignerClientOptions.CallTimeout"/>; positive.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// See <see cref="MpcSignerClientOptions.Arithmetic"/>: <c>default</c> (OpenSSL when libcrypto loads), <c>openssl</c>
    /// (required) or <c>managed</c> (variable-time, only when named). Null: default.
    /// </summary>
    public string? Arithmetic { get; set; }

    /// <summary>See <see cref="MpcSignerClientOptions.PrecomputedRandomness"/>; 0 to 64.</summary>
    public int PrecomputedRandomness { get; set; } = 2;

    /// <summary>
    /// A directory for this application's key files: when set, a <see cref="KeyStore.ClientKeyDirectory"/> over it is
    /// registered too (created, owner-only, on first save). Null: no key directory is registered.
    /// </summary>
    public string? KeyStoreDirectory { get; set; }

    /// <summary>
    /// A sealed device profile file (<see cref="DeviceProfileFile"/>): the device's proof parameters, made once and
    /// reused by every key generation and refresh. Needs <see cref="DeviceProfilePassphrase"/>. Null: parameters are
    /// made on first use and kept for the life of the client.
    /// </summary>
    public string? DeviceProfilePath { get; set; }

    /// <summary>The passphrase that seals <see cref="DeviceProfilePath"/> (from a secret store or an environment variable, not a checked-in file).</summary>
    public string? DeviceProfilePassphrase { get; set; }

    /// <summary>The device id the profile is bound to. Null: <see cref="LocalDeviceId.OfThisMachine"/>.</summary>
    public string? DeviceId { get; set; }

    /// <summary>
    /// Runs last on the client's <see cref="MpcSignerClientOptions"/>, for what configuration cannot carry (a shared
    /// <see cref="InMemoryDeviceProfileStore"/>, a timings sink). Not bindable.
    /// </summary>
    public Action<MpcSignerClientOptions>? ConfigureClient { get; set; }
}
