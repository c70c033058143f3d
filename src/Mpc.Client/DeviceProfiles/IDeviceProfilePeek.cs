using Mpc.Crypto.Proofs;

namespace Mpc.Client.DeviceProfiles;

/// <summary>
/// A profile store that can show the stored profile's public parameters without opening it (no passphrase, no
/// Argon2id). Internal because the parameters are engine types the SDK does not hand out.
/// </summary>
internal interface IDeviceProfilePeek
{
    /// <summary>
    /// The stored profile's public parameters, or null when there is no profile, it names another device, or its
    /// format does not carry them in clear. Unauthenticated: <see cref="MpcSignerClient"/> uses them only to start a
    /// key generation or refresh while the profile is still being opened, and refuses to finish it unless the opened
    /// profile holds exactly these parameters.
    /// </summary>
    ValueTask<RingPedersenParameters?> PeekParametersAsync(CancellationToken cancellationToken);
}
