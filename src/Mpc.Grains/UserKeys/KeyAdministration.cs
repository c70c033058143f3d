using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Protocol;

namespace Mpc.Grains;

/// <summary>The owner's and the operator's changes to a stored key: revoking a device, lifting a freeze, the certificate chain.</summary>
internal sealed class KeyAdministration(UserKeysContext context)
{
    /// <summary>Each freeze may have leaked a bit of a server share, and a refresh does not take it back (docs/protocol.md).</summary>
    public const int MaxUnfreezesPerKey = 3;

    public IReadOnlyList<DeviceSummary> ListDevices(string keyId) =>
        [.. context.Keys.Require(keyId).Devices.Values.OrderBy(d => d.CreatedAt).Select(DeviceRules.Summarize)];

    public async Task<DeviceSummary> RevokeDevice(string keyId, string deviceId)
    {
        StoredKey key = context.Keys.Require(keyId);
        if (!DeviceIds.IsValid(deviceId) || !key.Devices.TryGetValue(deviceId, out StoredDevice? device))
        {
            throw Identifiers.UnknownDevice(keyId, deviceId);
        }
        if (device.Revoked)
        {
            return DeviceRules.Summarize(device);
        }
        if (!key.Devices.Values.Any(d => d != device && !d.Revoked))
        {
            // Backups count: with the last phone lost, the user revokes it and restores a backup.
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"'{deviceId}' is the key's last live share pair: revoking it would leave nothing that can sign or restore.");
        }
        key = await context.CommitPairChangeAsync(new KeyChange(keyId, current =>
        {
            DeviceRules.Retire(current!, current!.Devices[deviceId], context.Time.GetUtcNow(), "revoked by the owner");
            return current;
        }, "The revocation could not be stored; try again."));
        context.DropShares(keyId, deviceId);
        context.Logger.LogInformation("Key {KeyId}: revoked device {DeviceId}", keyId, deviceId);
        context.Audit.Record(keyId, AuditEventKind.DeviceRevoked, deviceId, default, AuditOutcomes.Ok, "revoked by the owner");
        return DeviceRules.Summarize(key.Devices[deviceId]);
    }

    /// <summary>Operator only: lifts a freeze; every remaining pair must be refreshed before it signs.</summary>
    public async Task<KeySummary> Unfreeze(string keyId, string? revokeDeviceId, string operatorName)
    {
        StoredKey key = context.Keys.Require(keyId);
        string? frozenBy = context.Status.FrozenBy(key);
        if (frozenBy is null)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition, $"Key '{keyId}' is not frozen.");
        }
        int unfreezes = context.Status.UnfreezesOf(key);
        if (unfreezes >= MaxUnfreezesPerKey)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Key '{keyId}' has been unfrozen {unfreezes} times already; it stays frozen. Replace it with a new key.");
        }
        // Lifting happens in the status record only: a freeze known only to the old blob is moved there first, so a
        // failure between the two writes below leaves the key frozen.
        await context.Status.MigrateLegacyFreezeAsync(key);
        DateTimeOffset now = context.Time.GetUtcNow();
        // Devices first (must refresh, under a new generation), then the status: between the writes the key is still frozen.
        key = await context.CommitPairChangeAsync(new KeyChange(keyId, current =>
        {
            if (!string.IsNullOrEmpty(revokeDeviceId))
            {
                if (!current!.Devices.TryGetValue(revokeDeviceId, out StoredDevice? revoked))
                {
                    throw Identifiers.UnknownDevice(keyId, revokeDeviceId);
                }
                DeviceRules.Retire(current, revoked, now, $"revoked by operator {operatorName} when unfreezing");
            }
            if (!current!.Devices.Values.Any(d => !d.Revoked))
            {
                throw new SignerException(SignerErrorKind.FailedPrecondition, $"Key '{keyId}' would have no device left.");
            }
            // The freeze bounds what an abort attack learned to one bit of the frozen pair's x1. Every pair is
            // replaced before signing resumes, so no stolen or cheating share of the old pairs signs again.
            foreach (StoredDevice device in current.Devices.Values.Where(d => !d.Revoked))
            {
                device.MustRefresh = true;
            }
            current.Status = KeyStatus.Active;
            current.FrozenAt = null;
            current.FrozenReason = null;
            current.FrozenDevice = null;
            return current;
        }, "The unfreeze could not be stored; the key stays frozen."));
        await context.Status.UnfreezeAsync(key);
        context.DropShares(keyId, deviceId: null);
        context.Logger.LogWarning("Key {KeyId} ({FrozenBy}) unfrozen by operator {Operator}; every device must refresh", keyId, frozenBy, operatorName);
        if (!string.IsNullOrEmpty(revokeDeviceId))
        {
            context.Audit.Record(keyId, AuditEventKind.DeviceRevoked, revokeDeviceId, default, AuditOutcomes.Ok, $"revoked by operator {operatorName}");
        }
        context.Audit.Record(keyId, AuditEventKind.Unfreeze, "", default, AuditOutcomes.Ok, $"by operator {operatorName}; every device must refresh");
        return context.Summarize(key);
    }

    /// <summary>
    /// Replaces the key's certificate chain. Frozen keys accept a chain too: it is public data, and a frozen key's
    /// certificate still identifies the signer of the documents it signed before it was frozen.
    /// </summary>
    public async Task<KeySummary> SetCertificateChain(string keyId, byte[][] chainDer)
    {
        StoredKey key = context.Keys.Require(keyId);
        List<byte[]> chain = CertificateChains.Parse(chainDer, key.CurveKind, key.PublicKey);
        UserStateLimits.RequireChainCapacity(context.Keys.State, keyId, chain);
        // Each write rewrites the user's whole key record and adds an audit entry: charged as it starts, stored or not.
        context.CertificateChainRate.Take(context.UserId, "This user");
        key = await context.Keys.CommitAsync(new KeyChange(keyId, current =>
        {
            current!.CertificateChain = chain;
            return current;
        }, "The certificate chain could not be stored; the previous one is kept. Try again."));
        context.Logger.LogInformation("Set a certificate chain of {Count} certificates on key {KeyId}", key.CertificateChain.Count, keyId);
        string subject = "none";
        if (key.CertificateChain.Count > 0)
        {
            using X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(key.CertificateChain[0]);
            // The subject is the user's text, and `mpc audit` prints the log: nothing in it may move a terminal's cursor or
            // reorder what follows.
            subject = ClientText.Printable(leaf.Subject);
        }
        context.Audit.Record(keyId, AuditEventKind.Certificate, "", default, AuditOutcomes.Ok, subject);
        return context.Summarize(key);
    }
}
