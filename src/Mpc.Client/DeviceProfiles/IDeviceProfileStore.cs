namespace Mpc.Client.DeviceProfiles;

/// <summary>
/// Where a device keeps its <see cref="DeviceProfile"/> between processes, sealed with its other secrets
/// (<see cref="DeviceProfileFile"/> keeps it in a passphrase-sealed file; an app may use the platform's key store).
/// <see cref="MpcSignerClient"/> loads it before its first key generation or refresh and saves a new one only when
/// <see cref="LoadAsync"/> finds none, or on <see cref="MpcSignerClient.RegenerateDeviceProfileAsync"/>.
/// </summary>
public interface IDeviceProfileStore
{
    /// <summary>This device's id: a new profile is made for it, and a stored profile naming another id is refused.</summary>
    string DeviceId { get; }

    /// <summary>
    /// The stored profile, checked (sealed for this device, untouched, parameters valid); null when there is none yet.
    /// A profile that exists but fails a check is never replaced silently: throw (the client then refuses to run).
    /// </summary>
    Task<DeviceProfile?> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="profile"/>, replacing any earlier one, durably before returning.</summary>
    Task SaveAsync(DeviceProfile profile, CancellationToken cancellationToken);
}
