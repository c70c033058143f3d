using Microsoft.Extensions.Logging;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Signing;

namespace Mpc.Grains;

/// <summary>
/// Re-runs the final checks that markers record whose outcome this activation never saw (their activation crashed, its
/// freeze write failed, or a check of this activation ended in an unexpected exception), from the stored c3 with the
/// key's share: the outcome is the one the interrupted check had, and the same c3 is decrypted again, so nothing new
/// is learnt. Run for every such marker when the grain activates, and once per marker when a signature is begun.
/// </summary>
internal sealed class FinalCheckRecovery(UserKeysContext context)
{
    /// <summary>Check ids of markers <see cref="RecoverOnce"/> has re-run (or tried to) in this activation.</summary>
    private readonly HashSet<string> _attempted = new(StringComparer.Ordinal);

    /// <summary>
    /// Passed: the marker is cleared and the key stays active. Failed: the key is frozen durably, as a failed check.
    /// Could not run (no such key or device, a share that cannot be unsealed, a malformed record or one from before
    /// recovery existed, a storage failure): the marker stays, the key stays frozen. Returns true only when the marker
    /// was cleared.
    /// </summary>
    public async Task<bool> Recover(string keyId, PendingFinalCheck marker)
    {
        ILogger logger = context.Logger;
        if (context.Keys.Find(keyId) is not { } key || key.Status == KeyStatus.Frozen)
        {
            return false;
        }
        FinalCheckRecord? record = marker.ToRecord();
        if (record is null || !key.Devices.TryGetValue(marker.DeviceId, out StoredDevice? device))
        {
            context.Metrics.FinalCheckRerun("not_run");
            logger.LogWarning("Key {KeyId} stays frozen: a final signature check (device {DeviceId}, started {Since:u}) never recorded its outcome " +
                "and cannot be re-run ({Why}). An operator unfreeze (which forces a refresh) lifts it",
                keyId, marker.DeviceId, marker.Since, record is null ? "the marker predates recovery" : "the device is gone");
            return false;
        }
        bool passed;
        try
        {
            ServerKeyShare share = await context.Shares.Open(key, device);
            // Before any decryption: a marker this server did not write (planted through storage, or altered) would make
            // the re-run decrypt a c3 whose proof was never checked, one bit of x1 per re-run.
            if (marker.Tag is null || !FinalCheck.IsAuthentic(share, marker.DeviceId, record, marker.Tag))
            {
                context.Metrics.FinalCheckRerun("not_run");
                logger.LogError("Key {KeyId} stays frozen: the final-check marker (device {DeviceId}, started {Since:u}) is not authentic " +
                    "(its tag is {Tag}); it is not re-run. An operator unfreeze (which forces a refresh) lifts it",
                    keyId, marker.DeviceId, marker.Since, marker.Tag is null ? "missing" : "wrong");
                return false;
            }
            // Decryption is gated on storage, not on memory: a stale activation (or a marker this activation never managed
            // to store) must not decrypt for a key another activation froze or whose check it already settled.
            if (!await context.Status.IsStillPendingInStorageAsync(keyId, marker.CheckId))
            {
                context.Metrics.FinalCheckRerun("not_run");
                logger.LogWarning("The interrupted final check of key {KeyId} (device {DeviceId}) is not re-run: storage no longer holds it for an active key",
                    keyId, marker.DeviceId);
                return false;
            }
            passed = FinalCheck.Recheck(share, marker.DeviceId, record, marker.Tag);
        }
        catch (Exception e) when (e is SignerException or MpcProtocolException)
        {
            context.Metrics.FinalCheckRerun("not_run");
            logger.LogError(e, "Key {KeyId} stays frozen: the interrupted final check (device {DeviceId}) could not be re-run", keyId, marker.DeviceId);
            return false;
        }
        context.Metrics.FinalCheckRerun(passed ? "passed" : "failed");
        if (!passed)
        {
            const string reason = "final signature check failed (re-run of an interrupted check)";
            try
            {
                await context.Freeze(keyId, marker.DeviceId, reason);
            }
            catch (SignerException)
            {
                // Logged by the status record; the marker in storage keeps the key frozen meanwhile.
            }
            finally
            {
                context.Audit.Record(keyId, AuditEventKind.Freeze, marker.DeviceId, AuditDigest(record), AuditOutcomes.Frozen, reason);
            }
            return false;
        }
        if (!await context.Status.ClearRecoveredMarkerAsync(keyId, marker.CheckId))
        {
            return false;
        }
        logger.LogWarning("Key {KeyId}: an interrupted final signature check (device {DeviceId}, started {Since:u}) was re-run and passed; " +
            "its marker is cleared and the key signs again", keyId, marker.DeviceId, marker.Since);
        context.Audit.Record(keyId, AuditEventKind.Sign, marker.DeviceId, AuditDigest(record), AuditOutcomes.Recovered, "interrupted final check re-run and passed");
        return true;
    }

    /// <summary>The stored digest for the audit entry; none if storage holds one of no valid length (the re-run refused it then).</summary>
    private static Digest? AuditDigest(FinalCheckRecord record) => Digest.TryParse(record.Digest, out Digest? digest) ? digest : null;

    /// <summary>
    /// <see cref="Recover"/> for a marker not yet re-run in this activation; later calls for the same marker do nothing
    /// (it stays frozen), so a marker that cannot be re-run is not retried, and logged, on every signing attempt. The
    /// re-run decrypts the same authenticated c3 as the interrupted check, so it tells nobody anything new.
    /// </summary>
    public async Task<bool> RecoverOnce(string keyId, PendingFinalCheck marker)
    {
        if (!_attempted.Add(marker.CheckId))
        {
            return false;
        }
        try
        {
            return await Recover(keyId, marker);
        }
        catch (Exception e)
        {
            context.Logger.LogError(e, "Re-running the interrupted final check of key {KeyId} failed; it stays frozen", keyId);
            return false;
        }
    }

    /// <summary>Re-runs every marker storage holds that this activation did not write; never fails the activation.</summary>
    public async Task RecoverAll()
    {
        foreach ((string keyId, PendingFinalCheck check) in context.Status.ForeignMarkers().ToList())
        {
            await RecoverOnce(keyId, check);
        }
    }
}
