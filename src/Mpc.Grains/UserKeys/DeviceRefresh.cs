using Microsoft.Extensions.Logging;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Protocol;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;

namespace Mpc.Grains;

/// <summary>
/// Share refresh, and with it device enrolment, backup, restore and import. Every share pair of a key belongs to one
/// device (or backup). A refresh derives a new pair from an existing one; the new pair is stored, and for a refresh the
/// old one retired, in one commit after the client has proved it holds the new client share. A failed write leaves
/// the old state whole.
/// </summary>
internal sealed class DeviceRefresh(UserKeysContext context, KeyImport import)
{
    public async Task<RefreshStarted> Begin(string keyId, RefreshStart start)
    {
        StoredKey key = context.Keys.Require(keyId);
        if (context.Status.IsFrozen(key))
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Key '{keyId}' is frozen after a failed signature check; only an operator can unfreeze it (which forces a refresh).");
        }
        StoredDevice source = DeviceRules.Require(key, start.Source);
        RefreshPurpose purpose = start.Purpose is RefreshPurpose.Refresh or RefreshPurpose.Enrol or RefreshPurpose.Backup or RefreshPurpose.Restore
            ? start.Purpose
            : throw new SignerException(SignerErrorKind.InvalidArgument, "Unknown refresh purpose.");
        bool fromBackup = source.Kind == DeviceKind.Backup;
        if (fromBackup != (purpose == RefreshPurpose.Restore))
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition, fromBackup
                ? $"'{source.DeviceId}' is a backup: it can only be restored to a device (mpc restore)."
                : $"'{source.DeviceId}' is a device, not a backup; restore needs a backup.");
        }
        if (source.MustRefresh && purpose is RefreshPurpose.Enrol or RefreshPurpose.Backup)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Device '{source.DeviceId}' must be refreshed first (the key was unfrozen by an operator): run mpc refresh.");
        }
        string label = Identifiers.RequireLabel(start.Label);
        string target = purpose switch
        {
            RefreshPurpose.Refresh => source.DeviceId,
            RefreshPurpose.Backup => DeviceIds.New("backup"),
            _ => DeviceIds.New("device"),
        };
        if (purpose != RefreshPurpose.Refresh)
        {
            // As at completion: a restore retires the backup it consumes in the same write, so it needs no free place.
            DeviceRules.RequireRoom(key, slack: purpose == RefreshPurpose.Restore ? 1 : 0, suffix: "");
        }
        if (purpose is RefreshPurpose.Enrol or RefreshPurpose.Backup)
        {
            UserStateLimits.RequireDeviceCapacity(context.Keys.State);
        }
        context.PurgeExpired();
        // Before the device's refresh in progress is replaced: a refused start leaves it as it was.
        context.RequirePaillierKeyRoom();
        if (purpose == RefreshPurpose.Refresh)
        {
            context.Refreshes.ReplaceRefreshOf(keyId, source.DeviceId);
        }
        context.Refreshes.RequireRoomFor(keyId);
        RefreshRequest request = UserKeysContext.Protocol(() => RefreshRequest.Decode(start.Request));
        ServerKeyShare share = await context.Shares.Open(key, source);
        RefreshServerSession session = UserKeysContext.Protocol(() => RefreshServerSession.FromShare(share, target, purpose, context.Backend, context.Options.PaillierModulusBits));
        session.PaillierKeys = context.PaillierKeys;
        session.KnownClientParameters = context.KnownClientParameters;
        return Open(new PendingRefresh(keyId, session, purpose, source.DeviceId, source.ShareId, target, label, key.CurveKind,
            context.Refreshes.NewExpiry(), Import: null), request);
    }

    public RefreshStarted BeginImport(string keyId, ImportStart start) => import.Begin(keyId, start, Open);

    public async Task<byte[]> Continue(string keyId, string refreshId, byte[] contribution)
    {
        PendingRefresh pending = context.Refreshes.Require(keyId, refreshId);
        // Before the round's work: refused, the session stays as it was and the same contribution may be sent again.
        context.ChargePaillierKey();
        try
        {
            RefreshContribution decoded = UserKeysContext.Protocol(() => RefreshContribution.Decode(contribution, pending.Curve));
            // A new Paillier key and its proofs take about a second: keep them off the silo's scheduler threads.
            RefreshServerShare reply = await Task.Run(() => UserKeysContext.Protocol(() => pending.Session.HandleContribution(decoded)));
            return reply.Encode();
        }
        catch
        {
            context.Refreshes.Forget(refreshId);
            throw;
        }
    }

    public async Task<RefreshCompletion> Complete(string keyId, string refreshId, byte[] confirmation)
    {
        PendingRefresh pending = context.Refreshes.Require(keyId, refreshId);
        context.Refreshes.Remove(refreshId);
        using RefreshServerSession session = pending.Session;
        ServerKeyShare share = UserKeysContext.Protocol(() => session.HandleConfirmation(RefreshConfirmation.Decode(confirmation, pending.Curve)));
        try
        {
            return pending.Purpose == RefreshPurpose.Import ? await import.Store(pending, share) : await StoreRefreshed(pending, share);
        }
        catch
        {
            share.Dispose();
            throw;
        }
    }

    private RefreshStarted Open(PendingRefresh pending, RefreshRequest request)
    {
        if (request.Curve != pending.Curve)
        {
            pending.Session.Dispose();
            throw new SignerException(SignerErrorKind.InvalidArgument, $"The request names {EcCurve.NameOf(request.Curve)}; the key is on {EcCurve.NameOf(pending.Curve)}.");
        }
        RefreshCommitment commitment;
        try
        {
            commitment = UserKeysContext.Protocol(() => pending.Session.HandleRequest(request));
        }
        catch
        {
            pending.Session.Dispose();
            throw;
        }
        return new RefreshStarted(context.Refreshes.Add(pending), commitment.Encode());
    }

    private async Task<RefreshCompletion> StoreRefreshed(PendingRefresh pending, ServerKeyShare share)
    {
        StoredKey key = context.Keys.Require(pending.KeyId);
        if (context.Status.IsFrozen(key))
        {
            throw SignerErrors.Frozen(pending.KeyId);
        }
        // The source must still be the pair the refresh started from: a concurrent refresh or revocation wins.
        if (!key.Devices.TryGetValue(pending.SourceDeviceId!, out StoredDevice? source) || source.Revoked
            || !source.ShareId.AsSpan().SequenceEqual(pending.SourceShareId))
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Device '{pending.SourceDeviceId}' changed while the refresh ran (refreshed or revoked elsewhere); nothing was stored.");
        }
        // Checked again at the end: an unfreeze or other enrolments may have happened while this refresh ran.
        if (source.MustRefresh && pending.Purpose is RefreshPurpose.Enrol or RefreshPurpose.Backup)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Device '{source.DeviceId}' must be refreshed first (the key was unfrozen by an operator); nothing was stored.");
        }
        if (pending.Purpose != RefreshPurpose.Refresh)
        {
            DeviceRules.RequireRoom(key, slack: pending.Purpose == RefreshPurpose.Restore ? 1 : 0, suffix: " Nothing was stored.");
        }
        if (pending.Purpose is RefreshPurpose.Enrol or RefreshPurpose.Backup)
        {
            UserStateLimits.RequireDeviceCapacity(context.Keys.State);
        }
        DateTimeOffset now = context.Time.GetUtcNow();
        StoredDevice target = await context.Shares.Seal(key.KeyId, pending.TargetDeviceId,
            pending.Purpose == RefreshPurpose.Backup ? DeviceKind.Backup : DeviceKind.Device,
            pending.Purpose == RefreshPurpose.Refresh ? source.Label : pending.Label, share, now);
        await context.CommitPairChangeAsync(new KeyChange(key.KeyId, current =>
        {
            switch (pending.Purpose)
            {
                case RefreshPurpose.Refresh:
                    target.CreatedAt = source.CreatedAt;
                    target.RefreshedAt = now;
                    target.ReplacedShareIds = [.. source.ReplacedShareIds.TakeLast(UserStateLimits.RememberedReplacedSharesPerDevice - 1), source.ShareId];
                    break;
                case RefreshPurpose.Restore:
                    DeviceRules.Retire(current!, source, now, $"restored to device '{target.DeviceId}'");
                    break;
            }
            current!.Devices[target.DeviceId] = target;
            return current;
        }, "The new share could not be stored; the old share remains in force. Try again."));
        if (pending.Purpose is RefreshPurpose.Refresh or RefreshPurpose.Restore)
        {
            // The source pair is gone; an enrolment's or backup's source keeps its pair and its open sessions.
            context.DropShares(key.KeyId, source.DeviceId);
        }
        context.Shares.Keep(key.KeyId, target.DeviceId, share);
        context.Logger.LogInformation("Key {KeyId}: {Purpose} from device {Source} to {Target}", key.KeyId, pending.Purpose, source.DeviceId, target.DeviceId);
        AuditEventKind kind = pending.Purpose switch
        {
            RefreshPurpose.Refresh => AuditEventKind.Refresh,
            RefreshPurpose.Enrol => AuditEventKind.DeviceEnrolled,
            RefreshPurpose.Backup => AuditEventKind.Backup,
            _ => AuditEventKind.Restore,
        };
        context.Audit.Record(key.KeyId, kind, target.DeviceId, default, AuditOutcomes.Ok,
            pending.Purpose == RefreshPurpose.Refresh ? $"share {Convert.ToHexStringLower(target.ShareId)}" : $"from {source.DeviceId}; label '{target.Label}'");
        return new RefreshCompletion(context.Summarize(key), DeviceRules.Summarize(target));
    }
}
