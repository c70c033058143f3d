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
/// is learnt. Run for every such marker when the grain activates, and when a signature is begun until a re-run of the
/// marker comes to an end (a marker that can never be re-run is tried once per activation).
/// </summary>
internal sealed class FinalCheckRecovery(UserKeysContext context)
{
    /// <summary>How a re-run ended; <see cref="RecoverRunnable"/> tries a marker again unless it can never be re-run.</summary>
    private enum Rerun
    {
        /// <summary>The check passed and its marker is cleared.</summary>
        Cleared,

        /// <summary>
        /// Not cleared: the check failed (the key is frozen), the key is gone or frozen, storage no longer holds the marker,
        /// or something that may work next time failed (the share's unsealing, reading storage, the clearing write).
        /// </summary>
        NotCleared,

        /// <summary>Never from this marker: it predates recovery, its device is gone or revoked, it is not authentic or malformed.</summary>
        NeverRunnable,
    }

    /// <summary>Check ids of markers that can never be re-run, met in this activation: not retried (nor logged) on every signature.</summary>
    private readonly HashSet<string> _neverRunnable = new(StringComparer.Ordinal);

    /// <summary>
    /// Passed: the marker is cleared and the key stays active. Failed: the key is frozen durably, as a failed check.
    /// Could not run (no such key or device, a share that cannot be unsealed, a malformed record or one from before
    /// recovery existed, a storage failure): the marker stays, the key stays frozen. Returns true only when the marker
    /// was cleared.
    /// </summary>
    public async Task<bool> Recover(string keyId, PendingFinalCheck marker) => await RerunAsync(keyId, marker) == Rerun.Cleared;

    private async Task<Rerun> RerunAsync(string keyId, PendingFinalCheck marker)
    {
        ILogger logger = context.Logger;
        if (context.Keys.Find(keyId) is not { } key || key.Status == KeyStatus.Frozen)
        {
            return Rerun.NotCleared;
        }
        FinalCheckRecord? record = marker.ToRecord();
        if (record is null || !key.Devices.TryGetValue(marker.DeviceId, out StoredDevice? device) || device.Revoked)
        {
            context.Metrics.FinalCheckRerun("not_run");
            logger.LogWarning("Key {KeyId} stays frozen: a final signature check (device {DeviceId}, started {Since:u}) never recorded its outcome " +
                "and cannot be re-run ({Why}). An operator unfreeze (which forces a refresh) lifts it",
                keyId, marker.DeviceId, marker.Since, record is null ? "the marker predates recovery" : "its device is gone or revoked");
            return Rerun.NeverRunnable;
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
                return Rerun.NeverRunnable;
            }
            // Decryption is gated on storage, not on memory: a stale activation (or a marker this activation never managed
            // to store) must not decrypt for a key another activation froze or whose check it already settled.
            if (!await context.Status.IsStillPendingInStorageAsync(keyId, marker.CheckId))
            {
                context.Metrics.FinalCheckRerun("not_run");
                // Or storage could not be read (logged): then memory still holds the marker, and the next signature tries again.
                logger.LogWarning("The interrupted final check of key {KeyId} (device {DeviceId}) is not re-run: storage no longer holds it for an active key, or could not be read",
                    keyId, marker.DeviceId);
                return Rerun.NotCleared;
            }
            passed = FinalCheck.Recheck(share, marker.DeviceId, record, marker.Tag);
        }
        catch (Exception e) when (e is SignerException or MpcProtocolException)
        {
            // A malformed record stays malformed; a share that could not be unsealed (the HSM, the key-encryption key) may
            // open next time.
            context.Metrics.FinalCheckRerun("not_run");
            logger.LogError(e, "Key {KeyId} stays frozen: the interrupted final check (device {DeviceId}) could not be re-run", keyId, marker.DeviceId);
            return e is MpcProtocolException ? Rerun.NeverRunnable : Rerun.NotCleared;
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
            return Rerun.NotCleared;
        }
        if (!await context.Status.ClearRecoveredMarkerAsync(keyId, marker.CheckId))
        {
            return Rerun.NotCleared;
        }
        logger.LogWarning("Key {KeyId}: an interrupted final signature check (device {DeviceId}, started {Since:u}) was re-run and passed; " +
            "its marker is cleared and the key signs again", keyId, marker.DeviceId, marker.Since);
        context.Audit.Record(keyId, AuditEventKind.Sign, marker.DeviceId, AuditDigest(record), AuditOutcomes.Recovered, "interrupted final check re-run and passed");
        return Rerun.Cleared;
    }

    /// <summary>The stored digest for the audit entry; none if storage holds one of no valid length (the re-run refused it then).</summary>
    private static Digest? AuditDigest(FinalCheckRecord record) => Digest.TryParse(record.Digest, out Digest? digest) ? digest : null;

    /// <summary>
    /// <see cref="Recover"/>, unless this activation found the marker can never be re-run: such a marker is not retried,
    /// and logged, on every signing attempt. One that failed for a reason that may pass (storage, the share's unsealing,
    /// an unexpected exception) is tried again at the next signature, so a blip does not leave an honest key refused
    /// for the life of the activation; each try decrypts the same authenticated c3 as the interrupted check, so it tells
    /// nobody anything new.
    /// </summary>
    public async Task<bool> RecoverRunnable(string keyId, PendingFinalCheck marker)
    {
        if (_neverRunnable.Contains(marker.CheckId))
        {
            return false;
        }
        try
        {
            Rerun end = await RerunAsync(keyId, marker);
            if (end == Rerun.NeverRunnable)
            {
                _neverRunnable.Add(marker.CheckId);
            }
            return end == Rerun.Cleared;
        }
        catch (Exception e)
        {
            context.Logger.LogError(e, "Re-running the interrupted final check of key {KeyId} failed; it stays frozen until a re-run passes", keyId);
            return false;
        }
    }

    /// <summary>Re-runs every marker storage holds that this activation did not write; never fails the activation.</summary>
    public async Task RecoverAll()
    {
        foreach ((string keyId, PendingFinalCheck check) in context.Status.ForeignMarkers().ToList())
        {
            await RecoverRunnable(keyId, check);
        }
    }
}
