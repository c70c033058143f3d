using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Grains.Audit;
using Mpc.Grains.Sealing;
using Mpc.Protocol;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;
using Orleans.Storage;

namespace Mpc.Grains;

/// <summary>
/// Devices and share refresh. Every share pair of a key belongs to one device (or backup). A refresh derives a
/// new pair from an existing one; the new pair is stored, and for a refresh the old one retired, in one state
/// write after the client has proved it holds the new client share. A failed write leaves the old state whole.
/// </summary>
public sealed partial class UserKeysGrain
{
    private const int MaxDevicesPerKey = UserStateLimits.MaxDevicesPerKey;
    private const int MaxOpenRefreshesPerKey = 4;
    private const int MaxOpenImportsPerUser = 4;
    private const int MaxUnfreezesPerKey = 3;
    private const int RememberedRevocations = UserStateLimits.RememberedRevocationsPerKey;
    private const int RememberedReplacedShares = UserStateLimits.RememberedReplacedSharesPerDevice;

    private readonly Dictionary<string, PendingRefresh> _refreshes = [];

    public Task<RefreshStarted> BeginRefresh(string keyId, RefreshStart start) => Observe(null, () => BeginRefreshCore(keyId, start));

    public Task<RefreshStarted> BeginImport(string keyId, ImportStart start) => Observe(null, () => BeginImportCore(keyId, start));

    public Task<byte[]> ContinueRefresh(string keyId, string refreshId, byte[] contribution) =>
        Observe(null, () => ContinueRefreshCore(keyId, refreshId, contribution));

    public Task<RefreshCompletion> CompleteRefresh(string keyId, string refreshId, byte[] confirmation) =>
        Observe(null, () => CompleteRefreshCore(keyId, refreshId, confirmation));

    public Task<IReadOnlyList<DeviceSummary>> ListDevices(string keyId)
    {
        StoredKey key = RequireKey(keyId);
        return Task.FromResult<IReadOnlyList<DeviceSummary>>([.. key.Devices.Values.OrderBy(d => d.CreatedAt).Select(SummarizeDevice)]);
    }

    public Task<DeviceSummary> RevokeDevice(string keyId, string deviceId) => Observe(null, () => RevokeDeviceCore(keyId, deviceId));

    public Task<KeySummary> Unfreeze(string keyId, string? revokeDeviceId, string operatorName) =>
        Observe(null, () => UnfreezeCore(keyId, revokeDeviceId, operatorName));

    private async Task<RefreshStarted> BeginRefreshCore(string keyId, RefreshStart start)
    {
        StoredKey key = RequireKey(keyId);
        if (_status.IsFrozen(key))
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Key '{keyId}' is frozen after a failed signature check; only an operator can unfreeze it (which forces a refresh).");
        }
        StoredDevice source = RequireDevice(key, start.Source);
        RefreshPurpose purpose = start.Purpose switch
        {
            DeviceRefreshPurpose.Refresh => RefreshPurpose.Refresh,
            DeviceRefreshPurpose.Enrol => RefreshPurpose.Enrol,
            DeviceRefreshPurpose.Backup => RefreshPurpose.Backup,
            DeviceRefreshPurpose.Restore => RefreshPurpose.Restore,
            _ => throw new SignerException(SignerErrorKind.InvalidArgument, "Unknown refresh purpose."),
        };
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
        string label = RequireLabel(start.Label);
        string target = purpose switch
        {
            RefreshPurpose.Refresh => source.DeviceId,
            RefreshPurpose.Backup => DeviceIds.New("backup"),
            _ => DeviceIds.New("device"),
        };
        if (purpose != RefreshPurpose.Refresh && key.Devices.Values.Count(d => !d.Revoked) >= MaxDevicesPerKey)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"Key '{keyId}' already has {MaxDevicesPerKey} devices and backups; revoke one first.");
        }
        if (purpose is RefreshPurpose.Enrol or RefreshPurpose.Backup)
        {
            UserStateLimits.RequireDeviceCapacity(state.State);
        }
        PurgeExpired();
        RequireRefreshCapacity(keyId);
        RefreshRequest request = Decode(() => RefreshRequest.Decode(start.Request));
        ServerKeyShare share = await Share(key, source);
        RefreshServerSession session = Protocol(() => RefreshServerSession.FromShare(share, target, purpose, backend, _options.PaillierModulusBits));
        session.PaillierKeys = PaillierKeys;
        return Open(new PendingRefresh(keyId, session, purpose, source.DeviceId, source.ShareId, target, label, (CurveKind)key.Curve,
            time.GetUtcNow() + _options.KeyGenSessionLifetime, Import: null), request);
    }

    private Task<RefreshStarted> BeginImportCore(string keyId, ImportStart start)
    {
        RequireKeyId(keyId);
        if (state.State.Keys.ContainsKey(keyId) || _refreshes.Values.Any(r => r.KeyId == keyId))
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition, $"Key '{keyId}' already exists.");
        }
        PurgeExpired();
        if (_refreshes.Values.Count(r => r.Purpose == RefreshPurpose.Import) >= MaxOpenImportsPerUser)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"{MaxOpenImportsPerUser} imports are in progress for this user; finish them or let them expire.");
        }
        UserStateLimits.RequireKeyCapacity(state.State, _keyGens.Count + _refreshes.Values.Count(r => r.Purpose == RefreshPurpose.Import));
        string label = RequireLabel(start.Label);
        CurveKind curve = Protocol(() => EcCurve.Get((CurveKind)start.Curve).Kind);
        RefreshRequest request = Decode(() => RefreshRequest.Decode(start.Request));
        RefreshServerSession session;
        try
        {
            session = Protocol(() => RefreshServerSession.FromImportedSeed(keyId, curve, start.SeedShare, start.PublicKey, backend, _options.PaillierModulusBits));
            session.PaillierKeys = PaillierKeys;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(start.SeedShare);
        }
        try
        {
            // Refuse a certificate for another key now, before the client does the refresh's work.
            if (start.CertificateChain.Length > 0)
            {
                AssignCertificateChain(new StoredKey { Curve = (int)curve, PublicKey = start.PublicKey }, start.CertificateChain);
            }
        }
        catch
        {
            session.Dispose();
            throw;
        }
        return Task.FromResult(Open(new PendingRefresh(keyId, session, RefreshPurpose.Import, null, [], ClientKeyShare.PrimaryDevice, label, curve,
            time.GetUtcNow() + _options.KeyGenSessionLifetime, start), request));
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
            commitment = Protocol(() => pending.Session.HandleRequest(request));
        }
        catch
        {
            pending.Session.Dispose();
            throw;
        }
        string refreshId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _refreshes[refreshId] = pending;
        return new RefreshStarted(refreshId, commitment.Encode());
    }

    private async Task<byte[]> ContinueRefreshCore(string keyId, string refreshId, byte[] contribution)
    {
        PendingRefresh pending = RequireRefresh(keyId, refreshId);
        RefreshContribution decoded;
        try
        {
            decoded = Decode(() => RefreshContribution.Decode(contribution, pending.Curve));
            // A new Paillier key and its proofs take about a second: keep them off the silo's scheduler threads.
            RefreshServerShare reply = await Task.Run(() => Protocol(() => pending.Session.HandleContribution(decoded)));
            return reply.Encode();
        }
        catch
        {
            Forget(refreshId);
            throw;
        }
    }

    private async Task<RefreshCompletion> CompleteRefreshCore(string keyId, string refreshId, byte[] confirmation)
    {
        PendingRefresh pending = RequireRefresh(keyId, refreshId);
        _refreshes.Remove(refreshId);
        using RefreshServerSession session = pending.Session;
        ServerKeyShare share = Protocol(() => session.HandleConfirmation(Decode(() => RefreshConfirmation.Decode(confirmation, pending.Curve))));
        try
        {
            return pending.Purpose == RefreshPurpose.Import
                ? await StoreImported(pending, share)
                : await StoreRefreshed(pending, share);
        }
        catch
        {
            share.Dispose();
            throw;
        }
    }

    private async Task<RefreshCompletion> StoreRefreshed(PendingRefresh pending, ServerKeyShare share)
    {
        StoredKey key = RequireKey(pending.KeyId);
        if (_status.IsFrozen(key))
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
        if (pending.Purpose != RefreshPurpose.Refresh && key.Devices.Values.Count(d => !d.Revoked) >= MaxDevicesPerKey + (pending.Purpose == RefreshPurpose.Restore ? 1 : 0))
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"Key '{key.KeyId}' already has {MaxDevicesPerKey} devices and backups; revoke one first. Nothing was stored.");
        }
        if (pending.Purpose is RefreshPurpose.Enrol or RefreshPurpose.Backup)
        {
            UserStateLimits.RequireDeviceCapacity(state.State);
        }
        DateTimeOffset now = time.GetUtcNow();
        StoredKey snapshot = key.Snapshot();
        StoredDevice target = await SealDevice(key.KeyId, pending.TargetDeviceId,
            pending.Purpose == RefreshPurpose.Backup ? DeviceKind.Backup : DeviceKind.Device,
            pending.Purpose == RefreshPurpose.Refresh ? source.Label : pending.Label, share, now);
        switch (pending.Purpose)
        {
            case RefreshPurpose.Refresh:
                target.CreatedAt = source.CreatedAt;
                target.RefreshedAt = now;
                target.ReplacedShareIds = [.. source.ReplacedShareIds.TakeLast(RememberedReplacedShares - 1), source.ShareId];
                break;
            case RefreshPurpose.Restore:
                Retire(key, source, now, $"restored to device '{target.DeviceId}'");
                break;
        }
        key.Devices[target.DeviceId] = target;
        await WriteOrRestore(key, snapshot, "The new share could not be stored; the old share remains in force. Try again.");
        if (pending.Purpose is RefreshPurpose.Refresh or RefreshPurpose.Restore)
        {
            // The source pair is gone; an enrolment's or backup's source keeps its pair and its open sessions.
            DropShares(key.KeyId, source.DeviceId);
        }
        _shares[ShareCacheKey(key.KeyId, target.DeviceId)] = share;
        logger.LogInformation("Key {KeyId}: {Purpose} from device {Source} to {Target}", key.KeyId, pending.Purpose, source.DeviceId, target.DeviceId);
        AuditEventKind kind = pending.Purpose switch
        {
            RefreshPurpose.Refresh => AuditEventKind.Refresh,
            RefreshPurpose.Enrol => AuditEventKind.DeviceEnrolled,
            RefreshPurpose.Backup => AuditEventKind.Backup,
            _ => AuditEventKind.Restore,
        };
        audit.Record(key.KeyId, kind, target.DeviceId, default, AuditOutcomes.Ok,
            pending.Purpose == RefreshPurpose.Refresh ? $"share {Convert.ToHexStringLower(target.ShareId)}" : $"from {source.DeviceId}; label '{target.Label}'");
        return new RefreshCompletion(Summarize(key), SummarizeDevice(target));
    }

    private async Task<RefreshCompletion> StoreImported(PendingRefresh pending, ServerKeyShare share)
    {
        if (state.State.Keys.ContainsKey(pending.KeyId))
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition, $"Key '{pending.KeyId}' already exists.");
        }
        EcCurve curve = EcCurve.Get(pending.Curve);
        await ClaimKeyId(pending.KeyId);
        (StoredKey stored, StoredDevice device) = await StoreNewKey(pending.KeyId, share, pending.Label, imported: true, pending.Import!.CertificateChain);
        logger.LogInformation("Imported key {KeyId} on {Curve}", pending.KeyId, curve.Name);
        audit.Record(pending.KeyId, AuditEventKind.Import, device.DeviceId, default, AuditOutcomes.Ok,
            $"{curve.Name}; {stored.CertificateChain.Count} certificate(s)");
        return new RefreshCompletion(Summarize(stored), SummarizeDevice(device));
    }

    private async Task<DeviceSummary> RevokeDeviceCore(string keyId, string deviceId)
    {
        StoredKey key = RequireKey(keyId);
        if (!DeviceIds.IsValid(deviceId) || !key.Devices.TryGetValue(deviceId, out StoredDevice? device))
        {
            throw new SignerException(SignerErrorKind.NotFound, $"Key '{keyId}' has no device '{ClientText.Quote(deviceId)}'.");
        }
        if (device.Revoked)
        {
            return SummarizeDevice(device);
        }
        if (!key.Devices.Values.Any(d => d != device && !d.Revoked))
        {
            // Backups count: with the last phone lost, the user revokes it and restores a backup.
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"'{deviceId}' is the key's last live share pair: revoking it would leave nothing that can sign or restore.");
        }
        StoredKey snapshot = key.Snapshot();
        Retire(key, device, time.GetUtcNow(), "revoked by the owner");
        await WriteOrRestore(key, snapshot, "The revocation could not be stored; try again.");
        DropShares(keyId, deviceId);
        logger.LogInformation("Key {KeyId}: revoked device {DeviceId}", keyId, deviceId);
        audit.Record(keyId, AuditEventKind.DeviceRevoked, deviceId, default, AuditOutcomes.Ok, "revoked by the owner");
        return SummarizeDevice(key.Devices[deviceId]);
    }

    private async Task<KeySummary> UnfreezeCore(string keyId, string? revokeDeviceId, string operatorName)
    {
        StoredKey key = RequireKey(keyId);
        string? frozenBy = _status.FrozenBy(key);
        if (frozenBy is null)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition, $"Key '{keyId}' is not frozen.");
        }
        int unfreezes = _status.UnfreezesOf(key);
        if (unfreezes >= MaxUnfreezesPerKey)
        {
            // Each freeze may have leaked a bit of a server share, and a refresh does not take it back (docs/protocol.md).
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Key '{keyId}' has been unfrozen {unfreezes} times already; it stays frozen. Replace it with a new key.");
        }
        // Lifting happens in the status record only: a freeze known only to the old blob is moved there first, so a
        // failure between the two writes below leaves the key frozen.
        await _status.MigrateLegacyFreezeAsync(key);
        StoredKey snapshot = key.Snapshot();
        DateTimeOffset now = time.GetUtcNow();
        if (!string.IsNullOrEmpty(revokeDeviceId))
        {
            if (!key.Devices.TryGetValue(revokeDeviceId, out StoredDevice? revoked))
            {
                throw new SignerException(SignerErrorKind.NotFound, $"Key '{keyId}' has no device '{ClientText.Quote(revokeDeviceId)}'.");
            }
            Retire(key, revoked, now, $"revoked by operator {operatorName} when unfreezing");
        }
        if (!key.Devices.Values.Any(d => !d.Revoked))
        {
            state.State.Keys[keyId] = snapshot;
            throw new SignerException(SignerErrorKind.FailedPrecondition, $"Key '{keyId}' would have no device left.");
        }
        // The freeze bounds what an abort attack learned to one bit of the frozen pair's x1. Every pair is
        // replaced before signing resumes, so no stolen or cheating share of the old pairs signs again.
        foreach (StoredDevice device in key.Devices.Values.Where(d => !d.Revoked))
        {
            device.MustRefresh = true;
        }
        key.Status = KeyStatus.Active;
        key.FrozenAt = null;
        key.FrozenReason = null;
        key.FrozenDevice = null;
        // Devices first (must refresh), then the status: between the two writes the key is still frozen.
        await WriteOrRestore(key, snapshot, "The unfreeze could not be stored; the key stays frozen.");
        await _status.UnfreezeAsync(key);
        DropShares(keyId, deviceId: null);
        logger.LogWarning("Key {KeyId} ({FrozenBy}) unfrozen by operator {Operator}; every device must refresh", keyId, frozenBy, operatorName);
        if (!string.IsNullOrEmpty(revokeDeviceId))
        {
            audit.Record(keyId, AuditEventKind.DeviceRevoked, revokeDeviceId, default, AuditOutcomes.Ok, $"revoked by operator {operatorName}");
        }
        audit.Record(keyId, AuditEventKind.Unfreeze, "", default, AuditOutcomes.Ok, $"by operator {operatorName}; every device must refresh");
        return Summarize(key);
    }

    /// <summary>
    /// Stores a new key (generated or imported) with its first device, "primary", in one write; a failed write
    /// removes it again, so nothing is kept. The unsealed share is cached for the key's first signatures.
    /// </summary>
    private async Task<(StoredKey Key, StoredDevice Device)> StoreNewKey(string keyId, ServerKeyShare share, string label, bool imported, IReadOnlyList<byte[]> certificateChain)
    {
        UserStateLimits.RequireKeyCapacity(state.State, inProgress: 0);
        UserStateLimits.RequireDeviceCapacity(state.State);
        DateTimeOffset now = time.GetUtcNow();
        var stored = new StoredKey
        {
            KeyId = keyId,
            Curve = (int)share.Curve,
            PublicKey = EcCurve.Get(share.Curve).EncodePoint(share.PublicKey),
            Status = KeyStatus.Active,
            CreatedAt = now,
            Imported = imported,
        };
        if (certificateChain.Count > 0)
        {
            AssignCertificateChain(stored, certificateChain);
            UserStateLimits.RequireChainCapacity(state.State, keyId, stored.CertificateChain);
        }
        StoredDevice device = await SealDevice(keyId, ClientKeyShare.PrimaryDevice, DeviceKind.Device, label, share, now);
        stored.Devices[device.DeviceId] = device;
        state.State.Keys[keyId] = stored;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e) when (e is not SignerException)
        {
            state.State.Keys.Remove(keyId);
            logger.LogError(e, "Storing new key {KeyId} for a user failed", keyId);
            throw new SignerException(SignerErrorKind.Internal,
                imported ? "The imported key could not be stored; nothing was kept. Try again." : "The key could not be stored; nothing was kept. Try again.");
        }
        _shares[ShareCacheKey(keyId, device.DeviceId)] = share;
        return (stored, device);
    }

    /// <summary>
    /// Destroys a pair's server share; the record stays so its client hears "revoked", not "unknown". Only the
    /// latest <see cref="RememberedRevocations"/> records are kept, so enrol/revoke churn cannot grow the state.
    /// </summary>
    private static void Retire(StoredKey key, StoredDevice device, DateTimeOffset now, string reason)
    {
        device.SealedShare = [];
        device.RevokedAt = now;
        device.RevokedReason = reason.Length <= UserStateLimits.MaxReasonLength ? reason : reason[..UserStateLimits.MaxReasonLength];
        device.MustRefresh = false;
        // A revoked device refuses every share; its replaced ids told stale shares from foreign ones, no longer needed.
        device.ReplacedShareIds = [];
        foreach (StoredDevice old in key.Devices.Values.Where(d => d.Revoked).OrderByDescending(d => d.RevokedAt).Skip(RememberedRevocations).ToList())
        {
            key.Devices.Remove(old.DeviceId);
        }
    }

    /// <summary>Writes the user's state; on any failure puts <paramref name="snapshot"/> back, so memory matches storage.</summary>
    private async Task WriteOrRestore(StoredKey key, StoredKey snapshot, string failure)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e) when (e is not SignerException)
        {
            state.State.Keys[key.KeyId] = snapshot;
            logger.LogError(e, "Writing key {KeyId} failed; the previous state is kept", key.KeyId);
            if (e is InconsistentStateException)
            {
                // Another activation wrote meanwhile: take its state rather than overwrite it later.
                try
                {
                    await ReloadStateAsync();
                    foreach (ServerKeyShare cached in _shares.Values)
                    {
                        cached.Dispose();
                    }
                    _shares.Clear();
                    _signs.Clear();
                }
                catch (Exception reread)
                {
                    logger.LogError(reread, "Re-reading the state of a user failed");
                }
            }
            throw new SignerException(SignerErrorKind.Internal, failure);
        }
    }

    private async Task<StoredDevice> SealDevice(string keyId, string deviceId, DeviceKind kind, string label, ServerKeyShare share, DateTimeOffset now)
    {
        string purpose = $"server-key-share/{deviceId}";
        byte[] secret = share.ExportSecret();
        try
        {
            return new StoredDevice
            {
                DeviceId = deviceId,
                Kind = kind,
                Label = label,
                SealedShare = await sealer.SealAsync(secret, new SealContext(UserId, keyId, purpose), CancellationToken.None),
                SealPurpose = purpose,
                ShareId = share.ShareId,
                CreatedAt = now,
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Keys stored before devices existed hold one share on the key itself: it becomes the primary device.</summary>
    private void MigrateLegacyShares()
    {
        foreach (StoredKey key in state.State.Keys.Values.Where(k => k.Devices.Count == 0 && k.SealedShare.Length > 0))
        {
            key.Devices[ClientKeyShare.PrimaryDevice] = new StoredDevice
            {
                DeviceId = ClientKeyShare.PrimaryDevice,
                SealedShare = key.SealedShare,
                SealPurpose = LegacySharePurpose,
                CreatedAt = key.CreatedAt,
            };
            key.SealedShare = [];
        }
    }

    private StoredKey RequireKey(string keyId)
    {
        RequireKeyId(keyId);
        return state.State.Keys.TryGetValue(keyId, out StoredKey? key) ? key : throw SignerErrors.UnknownKey(keyId);
    }

    /// <summary>The named device, alive, holding the share the caller names (when it names one).</summary>
    private static StoredDevice RequireDevice(StoredKey key, DeviceShare device)
    {
        string deviceId = string.IsNullOrEmpty(device.DeviceId) ? ClientKeyShare.PrimaryDevice : device.DeviceId;
        if (!DeviceIds.IsValid(deviceId) || !key.Devices.TryGetValue(deviceId, out StoredDevice? stored))
        {
            throw new SignerException(SignerErrorKind.NotFound, $"Key '{key.KeyId}' has no device '{ClientText.Quote(deviceId)}'.");
        }
        if (stored.Revoked)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Device '{deviceId}' of key '{key.KeyId}' was {stored.RevokedReason} on {stored.RevokedAt:u}; its share no longer signs.");
        }
        if (device.ShareId.Length == 0 && stored.ReplacedShareIds.Count > 0)
        {
            // Without a share id a replaced share would only be noticed at the final signature check, which freezes the key.
            throw new SignerException(SignerErrorKind.FailedPrecondition,
                $"Device '{deviceId}' has been refreshed: name the share you hold (share_id), so a replaced one is refused before it is used.");
        }
        if (device.ShareId.Length > 0 && stored.ShareId.Length > 0 && !device.ShareId.AsSpan().SequenceEqual(stored.ShareId))
        {
            bool replaced = stored.ReplacedShareIds.Any(id => id.AsSpan().SequenceEqual(device.ShareId));
            throw new SignerException(SignerErrorKind.FailedPrecondition, replaced
                ? $"This share of device '{deviceId}' was replaced by a refresh on {stored.RefreshedAt:u}; use the refreshed key file."
                : $"This share is not device '{deviceId}''s current share; use the device's latest key file.");
        }
        return stored;
    }

    private static StoredDevice RequireSigningDevice(StoredKey key, DeviceShare device)
    {
        StoredDevice stored = RequireDevice(key, device);
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

    private PendingRefresh RequireRefresh(string keyId, string refreshId)
    {
        RequireKeyId(keyId);
        if (!_refreshes.TryGetValue(refreshId ?? "", out PendingRefresh? pending) || pending.KeyId != keyId)
        {
            throw new SignerException(SignerErrorKind.NotFound, "Unknown, expired or finished refresh session; start again.");
        }
        if (pending.ExpiresAt < time.GetUtcNow())
        {
            Forget(refreshId!);
            throw new SignerException(SignerErrorKind.NotFound, "The refresh session expired; start again.");
        }
        return pending;
    }

    private void RequireRefreshCapacity(string keyId)
    {
        if (_refreshes.Values.Count(r => r.KeyId == keyId) >= MaxOpenRefreshesPerKey)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"Key '{keyId}' has {MaxOpenRefreshesPerKey} refreshes in progress; finish them or let them expire.");
        }
    }

    private static string RequireLabel(string? label)
    {
        label ??= "";
        if (label.Length > 64 || label.Any(char.IsControl))
        {
            throw new SignerException(SignerErrorKind.InvalidArgument, "A device label is at most 64 printable characters.");
        }
        return label;
    }

    private void Forget(string refreshId)
    {
        if (_refreshes.Remove(refreshId, out PendingRefresh? pending))
        {
            pending.Session.Dispose();
        }
    }

    private void PurgeExpiredRefreshes(DateTimeOffset now)
    {
        foreach (string id in _refreshes.Where(r => r.Value.ExpiresAt < now).Select(r => r.Key).ToList())
        {
            Forget(id);
        }
    }

    private void DisposeRefreshes()
    {
        foreach (PendingRefresh pending in _refreshes.Values)
        {
            pending.Session.Dispose();
        }
        _refreshes.Clear();
    }

    /// <summary>Forgets unsealed shares (and their open signing sessions) of one device, or of every device of the key.</summary>
    private void DropShares(string keyId, string? deviceId)
    {
        foreach (string cacheKey in _shares.Keys.Where(k => deviceId is null ? k.StartsWith(keyId + "/", StringComparison.Ordinal) : k == ShareCacheKey(keyId, deviceId)).ToList())
        {
            _shares.Remove(cacheKey, out ServerKeyShare? share);
            share?.Dispose();
        }
        foreach (string session in _signs.Where(s => s.Value.KeyId == keyId && (deviceId is null || s.Value.DeviceId == deviceId)).Select(s => s.Key).ToList())
        {
            _signs.Remove(session);
        }
    }

    private static string ShareCacheKey(string keyId, string deviceId) => keyId + "/" + deviceId;

    private static DeviceSummary SummarizeDevice(StoredDevice device) => new(
        device.DeviceId,
        device.Kind == DeviceKind.Backup ? "backup" : "device",
        device.Label,
        device.CreatedAt,
        device.RefreshedAt,
        device.RevokedAt,
        device.MustRefresh,
        device.ShareId);

    private sealed record PendingRefresh(
        string KeyId,
        RefreshServerSession Session,
        RefreshPurpose Purpose,
        string? SourceDeviceId,
        byte[] SourceShareId,
        string TargetDeviceId,
        string Label,
        CurveKind Curve,
        DateTimeOffset ExpiresAt,
        ImportStart? Import);
}
