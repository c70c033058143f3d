using System.Security.Cryptography;
using Mpc.Client.Custody;
using Mpc.Crypto.Proofs;

namespace Mpc.Client.DeviceProfiles;

/// <summary>
/// A <see cref="DeviceProfile"/> kept in memory for the life of the process, shared by every client given this store:
/// an application (or a load test) that makes many <see cref="MpcSignerClient"/>s pays for the two safe primes once
/// instead of once per client. Nothing is written anywhere; a new process makes new parameters (for a device that
/// keeps them, use <see cref="DeviceProfileFile"/> or the platform's key store). The store keeps its own copy of a
/// saved profile and forgets it on <see cref="Dispose"/>.
/// </summary>
public sealed class InMemoryDeviceProfileStore : IDeviceProfileStore, IDeviceProfilePeek, IDisposable
{
    private readonly Lock _gate = new();
    private DeviceProfile? _profile;
    private bool _ownsProfile;

    /// <summary>An empty store for <paramref name="deviceId"/>: the first client that needs parameters creates and saves them here.</summary>
    /// <exception cref="ArgumentException">The device id is empty, longer than 128 characters or has control characters.</exception>
    public InMemoryDeviceProfileStore(string deviceId)
    {
        CustodyFields.RequireDeviceId(deviceId, nameof(deviceId));
        DeviceId = deviceId;
    }

    /// <summary>A store that starts with <paramref name="profile"/> (for example one made up front with <see cref="DeviceProfile.Create(string, MpcArithmetic?, TimeProvider?)"/>); the caller keeps ownership of it.</summary>
    public InMemoryDeviceProfileStore(DeviceProfile profile)
        : this((profile ?? throw new ArgumentNullException(nameof(profile))).DeviceId)
    {
        _profile = profile;
    }

    /// <summary>
    /// A store around parameters the caller already holds (tests share one set across servers and clients: safe
    /// primes are slow). The caller keeps ownership of <paramref name="ringPedersen"/>.
    /// </summary>
    internal static InMemoryDeviceProfileStore Around(RingPedersenSecret ringPedersen, string deviceId = "test-device") =>
        new(DeviceProfile.From(deviceId, ringPedersen, DateTimeOffset.UnixEpoch));

    /// <inheritdoc/>
    public string DeviceId { get; }

    /// <inheritdoc/>
    public Task<DeviceProfile?> LoadAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_profile);
        }
    }

    /// <summary>The held profile's public parameters (nothing to open here), or null before one is saved.</summary>
    ValueTask<RingPedersenParameters?> IDeviceProfilePeek.PeekParametersAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_profile?.RingPedersen.Parameters);
        }
    }

    /// <summary>
    /// Keeps a copy of <paramref name="profile"/> (through its exported secret, checked again on the way in): the
    /// client that created it disposes its own instance with itself, while other clients of this store go on using the copy.
    /// </summary>
    public Task SaveAsync(DeviceProfile profile, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.DeviceId != DeviceId)
        {
            throw DeviceProfile.OtherDevice(profile.DeviceId, DeviceId);
        }
        byte[] secret = profile.ExportSecret();
        DeviceProfile copy;
        try
        {
            copy = DeviceProfile.ImportSecret(secret, DeviceId);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
        lock (_gate)
        {
            // A replaced profile stays alive: a client may still be using it until it is disposed.
            _profile = copy;
            _ownsProfile = true;
        }
        return Task.CompletedTask;
    }

    /// <summary>Forgets a profile this store saved (one handed to the constructor stays the caller's).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_ownsProfile)
            {
                _profile?.Dispose();
            }
            _profile = null;
            _ownsProfile = false;
        }
    }
}
