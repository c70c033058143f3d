using Mpc.Grains.Abstractions;
using Mpc.Protocol;
using Mpc.Protocol.Keys;

namespace Mpc.Grains;

/// <summary>Which device pair a call may use, how a pair is retired, and what is public about it.</summary>
internal static class DeviceRules
{
    /// <summary>The named device, alive, holding the share the caller names (when it names one).</summary>
    public static StoredDevice Require(StoredKey key, DeviceShare device)
    {
        string deviceId = string.IsNullOrEmpty(device.DeviceId) ? ClientKeyShare.PrimaryDevice : device.DeviceId;
        if (!DeviceIds.IsValid(deviceId) || !key.Devices.TryGetValue(deviceId, out StoredDevice? stored))
        {
            throw Identifiers.UnknownDevice(key.KeyId, deviceId);
        }
        if (stored.Revoked)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Device '{deviceId}' of key '{key.KeyId}' was {stored.RevokedReason} on {stored.RevokedAt:u}; its share no longer signs.");
        }
        RequireCurrentShare(stored, device.ShareId);
        return stored;
    }

    /// <summary>
    /// The caller of a session's later round names the device pair the session was made for (<paramref name="sessionDeviceId"/>):
    /// a commitment made for one device's pair must not be completed with another device's share.
    /// </summary>
    public static StoredDevice RequireSessionPair(StoredKey key, string sessionDeviceId, DeviceShare caller)
    {
        string deviceId = string.IsNullOrEmpty(caller.DeviceId) ? ClientKeyShare.PrimaryDevice : caller.DeviceId;
        if (deviceId != sessionDeviceId || !key.Devices.TryGetValue(sessionDeviceId, out StoredDevice? stored))
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"This signing session belongs to device '{ClientText.Quote(sessionDeviceId)}', not '{ClientText.Quote(deviceId)}'; start a new one.");
        }
        RequireCurrentShare(stored, caller.ShareId);
        return stored;
    }

    private static void RequireCurrentShare(StoredDevice stored, byte[] shareId)
    {
        string deviceId = stored.DeviceId;
        if (shareId.Length == 0 && stored.ReplacedShareIds.Count > 0)
        {
            // Without a share id a replaced share would only be noticed at the final signature check, which freezes the key.
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Device '{deviceId}' has been refreshed: name the share you hold (share_id), so a replaced one is refused before it is used.");
        }
        if (shareId.Length > 0 && stored.ShareId.Length > 0 && !shareId.AsSpan().SequenceEqual(stored.ShareId))
        {
            bool replaced = stored.ReplacedShareIds.Any(id => id.AsSpan().SequenceEqual(shareId));
            throw new SignerException(SignerErrorKind.FailedPrecondition, replaced
                ? $"This share of device '{deviceId}' was replaced by a refresh on {stored.RefreshedAt:u}; use the refreshed key file."
                : $"This share is not device '{deviceId}''s current share; use the device's latest key file.");
        }
    }

    /// <summary>As <see cref="Require"/>, and the pair may sign: not a backup, not waiting for a refresh after an unfreeze.</summary>
    public static StoredDevice RequireSigning(StoredKey key, DeviceShare device)
    {
        StoredDevice stored = Require(key, device);
        if (stored.Kind == DeviceKind.Backup)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition, $"'{stored.DeviceId}' is a backup: restore it to a device before signing.");
        }
        if (stored.MustRefresh)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Device '{stored.DeviceId}' must be refreshed before it signs again (the key was unfrozen by an operator): run mpc refresh.");
        }
        return stored;
    }

    /// <summary>Live devices and backups of the key, within <see cref="UserStateLimits.MaxDevicesPerKey"/> (plus <paramref name="slack"/>).</summary>
    public static void RequireRoom(StoredKey key, int slack, string suffix)
    {
        if (key.Devices.Values.Count(d => !d.Revoked) >= UserStateLimits.MaxDevicesPerKey + slack)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"Key '{key.KeyId}' already has {UserStateLimits.MaxDevicesPerKey} devices and backups; revoke one first.{suffix}");
        }
    }

    /// <summary>
    /// Destroys a pair's server share; the record stays so its client hears "revoked", not "unknown". Only the latest
    /// <see cref="UserStateLimits.RememberedRevocationsPerKey"/> records are kept, so enrol/revoke churn cannot grow the state.
    /// </summary>
    public static void Retire(StoredKey key, StoredDevice device, DateTimeOffset now, string reason)
    {
        device.SealedShare = [];
        device.RevokedAt = now;
        device.RevokedReason = reason.Length <= UserStateLimits.MaxReasonLength ? reason : reason[..UserStateLimits.MaxReasonLength];
        device.MustRefresh = false;
        // A revoked device refuses every share; its replaced ids told stale shares from foreign ones, no longer needed.
        device.ReplacedShareIds = [];
        foreach (StoredDevice old in key.Devices.Values.Where(d => d.Revoked).OrderByDescending(d => d.RevokedAt).Skip(UserStateLimits.RememberedRevocationsPerKey).ToList())
        {
            key.Devices.Remove(old.DeviceId);
        }
    }

    public static DeviceSummary Summarize(StoredDevice device) => new(
        device.DeviceId,
        device.Kind == DeviceKind.Backup ? "backup" : "device",
        device.Label,
        device.CreatedAt,
        device.RefreshedAt,
        device.RevokedAt,
        device.MustRefresh,
        device.ShareId);
}
