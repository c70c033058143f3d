using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Mpc.Client;

/// <summary>Settings for <see cref="MpcSignerClient"/>; the defaults suit most applications.</summary>
public sealed class MpcSignerClientOptions
{
    /// <summary>
    /// The big-number arithmetic for the client's Paillier and proof work: <see cref="MpcArithmetic.Default"/>
    /// (OpenSSL's constant-time routines when libcrypto loads), <see cref="MpcArithmetic.OpenSsl"/> (required), or
    /// <see cref="MpcArithmetic.Managed"/> (variable-time, named explicitly).
    /// </summary>
    public MpcArithmetic Arithmetic { get; set; } = MpcArithmetic.Default;

    /// <summary>
    /// Where this device keeps its proof parameters between processes (<see cref="DeviceProfiles.DeviceProfileFile"/>
    /// for a sealed file). The client loads them before its first key generation or refresh; when the store has none
    /// it creates them (two safe primes, about a second, sometimes several; <see cref="Progress"/> says so first) and
    /// saves them, once per device. A stored profile that fails its checks makes the operation fail: it is replaced
    /// only by <see cref="MpcSignerClient.RegenerateDeviceProfileAsync"/>. Several clients in one process can share
    /// one <see cref="DeviceProfiles.InMemoryDeviceProfileStore"/> (made once, kept in memory). Null: parameters are
    /// created on first use and kept for this client instance only.
    /// </summary>
    public DeviceProfiles.IDeviceProfileStore? DeviceProfileStore { get; set; }

    /// <summary>Called with a one-line note before a slow local step (creating the device's proof parameters). Null: silent.</summary>
    public Action<string>? Progress { get; set; }

    /// <summary>Called after each key generation, refresh and import with where its time went. Null: not reported.</summary>
    public Action<MpcOperationTimings>? Timings { get; set; }

    /// <summary>
    /// Randomness values (c3's Paillier randomness and its proof's commitments) each key keeps precomputed in the
    /// background (0 disables); refilled once half of them are used.
    /// </summary>
    public int PrecomputedRandomness { get; set; } = 2;

    /// <summary>Deadline for each call to the server.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Allows a plain <c>http://</c> server address that is not loopback. Off by default, and the client refuses
    /// such an address when it is constructed, before anything is resolved or sent: a refresh, an import and a
    /// restore carry their randomisers (and every call the bearer token) in clear, so a passive observer of an
    /// import rebuilds the server's share and an observer of a refresh turns an old client share into the new one.
    /// When allowed, every call logs a warning through <see cref="LoggerFactory"/>; without a logger factory
    /// the warning is not shown anywhere, so set one. Loopback addresses (127.0.0.0/8, ::1, localhost) are always allowed.
    /// </summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>
    /// Certificates of a private CA to trust for the server's TLS certificate, instead of the system's roots (the
    /// certificate must still chain to one of them, be valid and name the host). Null: the system's trust store.
    /// Ignored when <see cref="HttpHandler"/> is set.
    /// </summary>
    public X509Certificate2Collection? TrustedCaCertificates { get; set; }

    /// <summary>
    /// The HTTP handler for the client's own channel (for a client certificate, a proxy, custom validation); the
    /// client disposes it with itself. Null: a handler with the platform's certificate validation
    /// (or <see cref="TrustedCaCertificates"/>).
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Logging for the client and its gRPC channel (warnings such as insecure transport). Null: none.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}

/// <summary>Per-signature choices.</summary>
public sealed record MpcSignOptions
{
    /// <summary>The defaults: low-S.</summary>
    public static MpcSignOptions Default { get; } = new();

    /// <summary>
    /// Normalise s to the lower half of the group order (default true): libsecp256k1, Bitcoin, Ethereum and
    /// @noble/curves refuse the other half. False allows either half (the form plain ECDSA verifiers accept).
    /// </summary>
    public bool LowS { get; init; } = true;
}
