using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.Signing;
using Orleans.Storage;

namespace Mpc.Grains;

/// <summary>
/// The fail-closed gate in front of every c3 decryption, over the user's small status record
/// (<see cref="KeyStatusState"/>). A key is frozen when any of these holds:
/// <list type="bullet">
/// <item>the status record says Frozen, or the user's old blob does (keys frozen before the record existed);</item>
/// <item>the record holds a final-check marker this activation did not write and see finish: some activation
/// decrypted for the key and never recorded a verified signature (its check failed and the freeze write failed,
/// or it died mid-check). The grain re-runs that check from the marker and clears it when it passes
/// (<see cref="ClearRecoveredMarkerAsync"/>) or freezes the key when it fails;</item>
/// <item>this activation froze the key and could not persist that yet.</item>
/// </list>
/// A decryption needs a marker written first, ETag-checked: an activation whose copy is stale fails that write,
/// re-reads, and then sees what the other activation stored. So a freeze that could not be written still holds
/// for every activation (the marker is in storage), and no activation decrypts for a key storage calls frozen.
/// The same write carries the key's generation check: every change to which share pairs may sign advances the
/// generation here first (<see cref="AdvanceGenerationAsync"/>), so no activation decrypts with a copy of the key's
/// devices older than the last revocation, refresh, restore or unfreeze, wherever that was made.
/// </summary>
internal sealed class KeyStatusRecord(IPersistentState<KeyStatusState> state, TimeProvider time, ILogger logger)
{
    private const int ConflictRetries = 3;

    private readonly ActivationStatusMemory _memory = new();

    public bool IsFrozen(StoredKey key) => FrozenBy(key) is not null;

    public KeyStatus StatusOf(StoredKey key) => IsFrozen(key) ? KeyStatus.Frozen : KeyStatus.Active;

    /// <summary>Why the key is frozen, for logs and operators; null when it is not.</summary>
    public string? FrozenBy(StoredKey key)
    {
        if (_memory.TryGetUnpersistedFreeze(key.KeyId, out KeyStatusEntry? unpersisted))
        {
            return unpersisted.FrozenReason + " (not yet stored; the final-check marker in storage holds it)";
        }
        if (state.State.Keys.TryGetValue(key.KeyId, out KeyStatusEntry? entry))
        {
            if (entry.Status == KeyStatus.Frozen)
            {
                return entry.FrozenReason ?? "frozen";
            }
            if (entry.PendingCheck is { } pending && !_memory.IsFinished(pending.CheckId))
            {
                return $"a final signature check (device '{pending.DeviceId}', {pending.Since:u}) never recorded its outcome";
            }
        }
        return key.Status == KeyStatus.Frozen ? key.FrozenReason ?? "frozen" : null;
    }

    /// <summary>Unfreezes so far, also those counted in the old blob.</summary>
    public int UnfreezesOf(StoredKey key) =>
        Math.Max(key.Unfreezes, state.State.Keys.TryGetValue(key.KeyId, out KeyStatusEntry? entry) ? entry.Unfreezes : 0);

    public bool HasFinishedMarkers => state.State.Keys.Values.Any(_memory.IsFinishedMarker);

    /// <summary>Keys whose status storage holds as frozen by a marker nobody resolved (for the activation log).</summary>
    public IEnumerable<(string KeyId, PendingFinalCheck Check)> ForeignMarkers() =>
        state.State.Keys.Where(e => e.Value.Status != KeyStatus.Frozen && e.Value.PendingCheck is { } p && !_memory.IsFinished(p.CheckId))
            .Select(e => (e.Key, e.Value.PendingCheck!));

    /// <summary>The key's generation as this activation last read or wrote it; 0 when the record holds none.</summary>
    public long GenerationOf(string keyId) => state.State.Keys.TryGetValue(keyId, out KeyStatusEntry? entry) ? entry.Generation : 0;

    /// <summary>
    /// Stores the marker for one decryption of <paramref name="key"/> (clearing this activation's finished markers
    /// in the same write) and returns its check id. Throws Frozen when storage says frozen, FailedPrecondition when
    /// storage's generation of the key is not the one of <paramref name="key"/> (the activation's copy, which its
    /// signing sessions were made from), Internal when the marker cannot be stored; in each case nothing may be decrypted.
    /// </summary>
    public async Task<string> BeginFinalCheckAsync(StoredKey key, string deviceId, FinalCheckRecord record, byte[] tag)
    {
        for (int attempt = 0; ; attempt++)
        {
            if (IsFrozen(key))
            {
                throw SignerErrors.Frozen(key.KeyId);
            }
            // Checked on what the write below is ETag-checked against: once it succeeds, storage held this generation.
            if (GenerationOf(key.KeyId) != key.Generation)
            {
                throw SignerErrors.DevicesChanged(key.KeyId);
            }
            string checkId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            DropFinishedMarkers();
            state.State.EntryFor(key.KeyId).PendingCheck = new PendingFinalCheck
            {
                CheckId = checkId, DeviceId = deviceId, Since = time.GetUtcNow(),
                C3 = record.C3, R2 = record.R2, R = record.R, Digest = record.Digest, Tag = tag,
            };
            try
            {
                await WriteAsync();
                return checkId;
            }
            catch (InconsistentStateException) when (attempt < ConflictRetries)
            {
                // Another activation wrote since this one read: decide again on what storage holds now. If storage cannot
                // be read, this marker (never stored) must not linger in memory looking like an interrupted check, which
                // the next signature would re-run, decrypting on a status nobody confirmed.
                if (!await TryReloadAsync())
                {
                    _memory.Finished(checkId);
                    throw new SignerException(SignerErrorKind.Internal,
                        "The server could not record the signing check; nothing was decrypted. Try again later.");
                }
            }
            catch (Exception e)
            {
                // Whether it landed is unknown; if it did, it is this activation's and nothing was decrypted.
                _memory.Finished(checkId);
                logger.LogError(e, "Storing the final-check marker of key {KeyId} failed; nothing was decrypted", key.KeyId);
                if (e is InconsistentStateException)
                {
                    await TryReloadAsync();
                }
                throw new SignerException(SignerErrorKind.Internal,
                    "The server could not record the signing check; nothing was decrypted. Try again later.");
            }
        }
    }

    /// <summary>The marker of <paramref name="keyId"/> this activation did not write or see finish, if storage (as last read) holds one.</summary>
    public PendingFinalCheck? ForeignMarker(string keyId) =>
        state.State.Keys.TryGetValue(keyId, out KeyStatusEntry? entry) && entry.Status != KeyStatus.Frozen
            && entry.PendingCheck is { } p && !_memory.IsFinished(p.CheckId) ? p : null;

    /// <summary>
    /// Whether storage, read now, still holds exactly the marker <paramref name="checkId"/> for <paramref name="keyId"/>
    /// and the key is not frozen there: a re-run decrypts only on that, never on what this activation last read (another
    /// activation may have frozen the key or settled the check since). False, logged, when storage cannot be read.
    /// </summary>
    public async Task<bool> IsStillPendingInStorageAsync(string keyId, string checkId) =>
        await TryReloadAsync() && ForeignMarker(keyId)?.CheckId == checkId;

    /// <summary>
    /// Clears a foreign marker whose check was re-run and passed. ETag-checked: true only when storage held exactly that
    /// marker and now holds none; on any failure the marker stays (and the key frozen), and memory is re-read on a conflict.
    /// </summary>
    public async Task<bool> ClearRecoveredMarkerAsync(string keyId, string checkId)
    {
        if (ForeignMarker(keyId) is not { } marker || marker.CheckId != checkId)
        {
            return false;
        }
        state.State.Keys[keyId].PendingCheck = null;
        try
        {
            await WriteAsync();
            return true;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Clearing the recovered final-check marker of key {KeyId} failed; the key stays frozen until it is cleared", keyId);
            if (state.State.Keys.TryGetValue(keyId, out KeyStatusEntry? entry) && entry.PendingCheck is null && entry.Status != KeyStatus.Frozen)
            {
                entry.PendingCheck = marker;
            }
            if (e is InconsistentStateException)
            {
                await TryReloadAsync();
            }
            return false;
        }
    }

    /// <summary>The check ended without a failed verification (a verified signature, or c3 refused before decryption).</summary>
    public void Finished(string checkId) => _memory.Finished(checkId);

    /// <summary>
    /// Makes a freeze durable. The key is frozen in this activation before the write is tried; when the write
    /// fails, the key's marker (written before the decryption that failed the check) keeps it frozen in storage,
    /// and the next successful write of this record stores the freeze too.
    /// </summary>
    public async Task FreezeAsync(string keyId, string? deviceId, string reason)
    {
        var facts = new KeyStatusEntry { Status = KeyStatus.Frozen, FrozenAt = time.GetUtcNow(), FrozenReason = reason, FrozenDevice = deviceId };
        _memory.FrozeUnpersisted(keyId, facts);
        for (int attempt = 0; ; attempt++)
        {
            state.State.ApplyFreeze(keyId, facts);
            try
            {
                await WriteAsync();
                return;
            }
            catch (InconsistentStateException) when (attempt < ConflictRetries)
            {
                await ReloadAsync();
            }
            catch (Exception e)
            {
                logger.LogError(e, "Persisting the freeze of key {KeyId} failed; its final-check marker keeps it frozen", keyId);
                throw new SignerException(SignerErrorKind.Internal,
                    "The key is frozen, but the freeze could not be written yet; it refuses to sign everywhere until an operator unfreezes it.");
            }
        }
    }

    /// <summary>Stores as Frozen a key frozen only in the old blob, so that lifting it happens in one place.</summary>
    public async Task MigrateLegacyFreezeAsync(StoredKey key)
    {
        if (key.Status != KeyStatus.Frozen || (state.State.Keys.TryGetValue(key.KeyId, out KeyStatusEntry? entry) && entry.Status == KeyStatus.Frozen))
        {
            return;
        }
        state.State.ApplyFreeze(key.KeyId, new KeyStatusEntry { FrozenAt = key.FrozenAt, FrozenReason = key.FrozenReason, FrozenDevice = key.FrozenDevice });
        await WriteOrReload("The key's freeze could not be moved to its status record; it stays frozen. Try again.");
    }

    /// <summary>Operator unfreeze, after the devices were marked must-refresh: lifts the freeze and any marker.</summary>
    public async Task UnfreezeAsync(StoredKey key)
    {
        int unfreezes = UnfreezesOf(key) + 1;
        state.State.Keys.TryGetValue(key.KeyId, out KeyStatusEntry? before);
        _memory.ForgetFreeze(key.KeyId, out KeyStatusEntry? unpersisted);
        state.State.Keys[key.KeyId] = new KeyStatusEntry { Status = KeyStatus.Active, Unfreezes = unfreezes, Generation = before?.Generation ?? 0 };
        try
        {
            await WriteAsync();
        }
        catch (Exception e)
        {
            // Put back what was there, not what a re-read might (or might fail to) return: memory never runs ahead of storage.
            logger.LogError(e, "Storing the unfreeze of key {KeyId} failed; it stays frozen", key.KeyId);
            if (before is null)
            {
                state.State.Keys.Remove(key.KeyId);
            }
            else
            {
                state.State.Keys[key.KeyId] = before;
            }
            if (unpersisted is not null)
            {
                _memory.FrozeUnpersisted(key.KeyId, unpersisted);
            }
            if (e is InconsistentStateException)
            {
                await TryReloadAsync();
            }
            throw new SignerException(SignerErrorKind.Internal, "The unfreeze could not be stored; the key stays frozen.");
        }
    }

    /// <summary>Clears this activation's finished markers, if any are stored; failures only delay that.</summary>
    public async Task ClearFinishedMarkersAsync()
    {
        if (!HasFinishedMarkers)
        {
            return;
        }
        DropFinishedMarkers();
        try
        {
            await WriteAsync();
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Clearing final-check markers failed; they are cleared with the next write");
            if (e is InconsistentStateException)
            {
                await TryReloadAsync();
            }
        }
    }

    /// <summary>
    /// Advances the key's generation past the stored one and <paramref name="key"/>'s, and returns it: the first write of
    /// every change to which share pairs may sign (<see cref="UserKeysContext.CommitPairChangeAsync"/>). Any activation
    /// whose copy of the devices predates it then fails its next marker write or finds the new generation on re-reading,
    /// and decrypts nothing. The same write clears this activation's finished marker of the key: left to the idle clear,
    /// a crash after a change that replaces or retires the share a re-run of it needs would leave a marker no later
    /// activation can re-run, and the key frozen until an operator acts. Throws Internal with <paramref name="failure"/>,
    /// before the devices are changed, when the write fails.
    /// </summary>
    public async Task<long> AdvanceGenerationAsync(StoredKey key, string failure)
    {
        KeyStatusEntry entry = state.State.EntryFor(key.KeyId);
        long generation = Math.Max(entry.Generation, key.Generation) + 1;
        entry.Generation = generation;
        if (_memory.IsFinishedMarker(entry))
        {
            entry.PendingCheck = null;
        }
        await WriteOrReload(failure);
        return generation;
    }

    private void DropFinishedMarkers()
    {
        foreach (KeyStatusEntry entry in state.State.Keys.Values.Where(_memory.IsFinishedMarker))
        {
            entry.PendingCheck = null;
        }
    }

    private async Task WriteAsync()
    {
        await state.WriteStateAsync();
        _memory.Stored(state.State);
    }

    private async Task WriteOrReload(string failure)
    {
        try
        {
            await WriteAsync();
        }
        catch (Exception e)
        {
            logger.LogError(e, "Writing the key status record failed");
            await TryReloadAsync();
            throw new SignerException(SignerErrorKind.Internal, failure);
        }
    }

    /// <summary>Storage's record replaces memory's; freezes not yet stored are applied again, so no re-read lifts them.</summary>
    public async Task ReloadAsync()
    {
        await state.ReadStateAsync();
        foreach ((string keyId, KeyStatusEntry facts) in _memory.UnpersistedFreezes)
        {
            state.State.ApplyFreeze(keyId, facts);
        }
    }

    /// <summary><see cref="ReloadAsync"/>; false, logged, when storage cannot be read (memory then keeps what it had).</summary>
    private async Task<bool> TryReloadAsync()
    {
        try
        {
            await ReloadAsync();
            return true;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Re-reading the key status record failed");
            return false;
        }
    }
}
