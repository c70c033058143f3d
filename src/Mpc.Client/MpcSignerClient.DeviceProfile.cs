using Mpc.Client.DeviceProfiles;
using Mpc.Crypto.Proofs;

namespace Mpc.Client;

public sealed partial class MpcSignerClient
{
    /// <summary>The note <see cref="MpcSignerClientOptions.Progress"/> receives before the parameters are created.</summary>
    public const string CreatingDeviceProfileNote = "creating this device's proof parameters (once per device)…";

    /// <summary>
    /// Loads (or, when the store has none, creates and saves) this device's proof parameters now rather than at the
    /// first key generation or refresh: a refused profile then fails here, before anything is sent.
    /// </summary>
    /// <returns>Where the parameters came from.</returns>
    public async Task<DeviceProfileSource> PrepareDeviceProfileAsync(CancellationToken cancellationToken = default) =>
        (await DeviceParametersAsync(cancellationToken).ConfigureAwait(false)).Source;

    /// <summary>
    /// Replaces this device's profile in <see cref="MpcSignerClientOptions.DeviceProfileStore"/> with a new one (two new
    /// safe primes), whatever the stored one is: the way out after a profile is refused, or to stop linking new keys
    /// to the old parameters. Existing keys are unaffected (the parameters are used only while a key is made or refreshed).
    /// </summary>
    /// <returns>The new profile's public fingerprint.</returns>
    /// <exception cref="InvalidOperationException">No store is set.</exception>
    public async Task<string> RegenerateDeviceProfileAsync(CancellationToken cancellationToken = default)
    {
        if (_options.DeviceProfileStore is not { } store)
        {
            throw new InvalidOperationException("Regenerating needs MpcSignerClientOptions.DeviceProfileStore.");
        }
        await _deviceProfileLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            DeviceProfile profile = await CreateProfile(store.DeviceId, cancellationToken).ConfigureAwait(false);
            await store.SaveAsync(profile, cancellationToken).ConfigureAwait(false);
            // The previous parameters stay alive (a session in flight may still use them) until the client is disposed.
            _deviceParameters = profile.RingPedersen;
            return profile.Fingerprint;
        }
        finally
        {
            _deviceProfileLock.Release();
        }
    }

    /// <summary>
    /// This device's ring-Pedersen parameters: cached, loaded from the store, or created (and saved) once. Not created
    /// when <paramref name="mayCreate"/> is false: a key generation or refresh that started from a profile's clear header
    /// finds it gone only if it was removed meanwhile, and must not seal a new one under a passphrase nothing has checked yet.
    /// </summary>
    private async Task<(RingPedersenSecret Secret, DeviceProfileSource Source)> DeviceParametersAsync(CancellationToken cancellationToken, bool mayCreate = true)
    {
        if (Volatile.Read(ref _deviceParameters) is { } cached)
        {
            return (cached, DeviceProfileSource.Cached);
        }
        await _deviceProfileLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_deviceParameters is { } loadedMeanwhile)
            {
                return (loadedMeanwhile, DeviceProfileSource.Cached);
            }
            DeviceProfileSource source;
            DeviceProfile profile;
            if (_options.DeviceProfileStore is { } store)
            {
                // A stored profile that fails its checks throws here, and the operation fails: it is never replaced silently.
                DeviceProfile? loaded = await store.LoadAsync(cancellationToken).ConfigureAwait(false);
                if (loaded is not null && loaded.DeviceId != store.DeviceId)
                {
                    loaded.Dispose();
                    throw new MpcSignerException(MpcErrorReason.OtherDevice,
                        $"the device profile store returned device {loaded.DeviceId}'s profile for device {store.DeviceId}");
                }
                if (loaded is not null)
                {
                    profile = loaded;
                    source = DeviceProfileSource.Loaded;
                }
                else if (!mayCreate)
                {
                    throw new MpcSignerException(MpcErrorReason.CorruptInput,
                        "the device profile disappeared after this operation started from it; run it again");
                }
                else
                {
                    profile = await CreateProfile(store.DeviceId, cancellationToken).ConfigureAwait(false);
                    await store.SaveAsync(profile, cancellationToken).ConfigureAwait(false);
                    source = DeviceProfileSource.Created;
                }
            }
            else
            {
                profile = await CreateProfile("this-client", cancellationToken).ConfigureAwait(false);
                source = DeviceProfileSource.Ephemeral;
            }
            Volatile.Write(ref _deviceParameters, profile.RingPedersen);
            return (profile.RingPedersen, source);
        }
        finally
        {
            _deviceProfileLock.Release();
        }
    }

    private async Task<DeviceProfile> CreateProfile(string deviceId, CancellationToken cancellationToken)
    {
        _options.Progress?.Invoke(CreatingDeviceProfileNote);
        DeviceProfile profile = await Task.Run(() => DeviceProfile.Create(deviceId, _backend), cancellationToken).ConfigureAwait(false);
        lock (_ownedProfiles)
        {
            _ownedProfiles.Add(profile);
        }
        return profile;
    }
}
