namespace Mpc.Client;

/// <summary>Where this device's proof parameters came from for one operation.</summary>
public enum DeviceProfileSource
{
    /// <summary>Already loaded or created by this client instance.</summary>
    Cached,

    /// <summary>Loaded from <see cref="MpcSignerClientOptions.DeviceProfileStore"/> (and checked).</summary>
    Loaded,

    /// <summary>Created (two safe primes) and saved to <see cref="MpcSignerClientOptions.DeviceProfileStore"/>.</summary>
    Created,

    /// <summary>Created for this client instance only: no store was set.</summary>
    Ephemeral,
}

/// <summary>
/// Where one key generation, refresh or import spent its time (wall clock, measured with <see cref="System.Diagnostics.Stopwatch"/>).
/// The parts do not add up to <see cref="Total"/>: the rest is saving the pending share and other local work, and
/// <see cref="DeviceSetupOverlapped"/> was spent during <see cref="Server"/>.
/// </summary>
/// <param name="Operation">"keygen", "refresh", "enrol", "backup", "restore" or "import".</param>
/// <param name="DeviceSetup">Getting this device's proof parameters (load and check, or create and save).</param>
/// <param name="DeviceProfile">Where they came from.</param>
/// <param name="Server">Waiting for the server's replies (its computation plus the network).</param>
/// <param name="RoundTrips">Calls to the server.</param>
/// <param name="ClientProofs">The client's own proofs (Πprm, its share's proof).</param>
/// <param name="Verification">Checking the server's proofs (Πmod, Πfac, the range and PDL proofs).</param>
/// <param name="Total">The whole operation.</param>
public sealed record MpcOperationTimings(
    string Operation,
    TimeSpan DeviceSetup,
    DeviceProfileSource DeviceProfile,
    TimeSpan Server,
    int RoundTrips,
    TimeSpan ClientProofs,
    TimeSpan Verification,
    TimeSpan Total)
{
    /// <summary>
    /// The part of <see cref="DeviceSetup"/> that ran while the operation waited for the server's first reply (key
    /// generation loads the device profile then); the operation waited only for the rest.
    /// </summary>
    public TimeSpan DeviceSetupOverlapped { get; init; }
}
