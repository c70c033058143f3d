using Mpc.Client;
using Mpc.Client.DeviceProfiles;
using Mpc.Crypto.Proofs;

namespace Mpc.Testing;

/// <summary>
/// A store whose clear header peeks at once but whose profile opens, or is refused as under a mistyped passphrase,
/// only when the test says so (as an Argon2id would finish, later).
/// </summary>
public sealed class GatedStore(IDeviceProfileStore inner, RingPedersenParameters peeked) : IDeviceProfileStore, IDeviceProfilePeek
{
    private readonly TaskCompletionSource<bool> _opens = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string DeviceId => inner.DeviceId;

    /// <summary>Lets the profile open.</summary>
    public void Open() => _opens.TrySetResult(true);

    /// <summary>Makes the opening fail with a wrong passphrase.</summary>
    public void Refuse() => _opens.TrySetResult(false);

    public async Task<DeviceProfile?> LoadAsync(CancellationToken cancellationToken)
    {
        if (!await _opens.Task.WaitAsync(cancellationToken))
        {
            throw new MpcSignerException(MpcErrorReason.WrongPassphrase, "device profile: wrong passphrase, or the device profile was modified");
        }
        return await inner.LoadAsync(cancellationToken);
    }

    public Task SaveAsync(DeviceProfile profile, CancellationToken cancellationToken) => inner.SaveAsync(profile, cancellationToken);

    public ValueTask<RingPedersenParameters?> PeekParametersAsync(CancellationToken cancellationToken) => ValueTask.FromResult<RingPedersenParameters?>(peeked);
}
