using Microsoft.Extensions.Logging;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.Keys;
using Orleans.Storage;

namespace Mpc.Grains;

/// <summary>
/// One change to one key of the user's record: <see cref="Apply"/> creates or edits the key in memory (it may refuse
/// by throwing, before anything is written); <see cref="Failure"/> is what the caller hears if the write fails.
/// </summary>
internal sealed record KeyChange(string KeyId, Func<StoredKey?, StoredKey> Apply, string Failure);

/// <summary>
/// The user's keys as stored (devices, certificate chains; the status lives in <see cref="KeyStatusRecord"/>), with
/// the one way to change them: <see cref="CommitAsync"/> applies a change and writes it, and on any failure puts the
/// key back as it was, so memory always matches storage.
/// </summary>
internal sealed class KeyRecord(IPersistentState<UserKeysState> state, ILogger logger)
{
    /// <summary>The seal purpose of shares stored before devices existed (one per key).</summary>
    internal const string LegacySharePurpose = "server-key-share";

    public UserKeysState State => state.State;

    /// <summary>Raised after a write met another activation's newer state and that state was read: caches of the old one are stale.</summary>
    public event Action? Reloaded;

    public StoredKey? Find(string keyId) => state.State.Keys.GetValueOrDefault(keyId);

    public bool Contains(string keyId) => state.State.Keys.ContainsKey(keyId);

    public IEnumerable<StoredKey> Keys => state.State.Keys.Values;

    /// <summary>The key, or NotFound (after the id's own rules).</summary>
    public StoredKey Require(string keyId)
    {
        Identifiers.RequireKeyId(keyId);
        return Find(keyId) ?? throw SignerErrors.UnknownKey(keyId);
    }

    /// <summary>
    /// Applies <paramref name="change"/> and writes the user's state. A refusal from the change, a failed write or a write
    /// that meets a newer state (ETag) leaves the key as it was before the call; the last also re-reads storage's state.
    /// </summary>
    public async Task<StoredKey> CommitAsync(KeyChange change)
    {
        StoredKey? before = Find(change.KeyId)?.Snapshot();
        StoredKey after;
        try
        {
            after = change.Apply(Find(change.KeyId));
            state.State.Keys[change.KeyId] = after;
        }
        catch
        {
            Restore(change.KeyId, before);
            throw;
        }
        try
        {
            await state.WriteStateAsync();
            return after;
        }
        catch (Exception e) when (e is not SignerException)
        {
            Restore(change.KeyId, before);
            logger.LogError(e, "Writing key {KeyId} failed; the previous state is kept", change.KeyId);
            if (e is InconsistentStateException)
            {
                // Another activation wrote meanwhile: take its state rather than overwrite it later.
                try
                {
                    await ReloadAsync();
                }
                catch (Exception reread)
                {
                    logger.LogError(reread, "Re-reading the state of a user failed");
                }
            }
            throw new SignerException(SignerErrorKind.Internal, change.Failure);
        }
    }

    /// <summary>Replaces the in-memory state with storage's, read as every activation reads it.</summary>
    public async Task ReloadAsync()
    {
        await state.ReadStateAsync();
        MigrateLegacyShares();
        Reloaded?.Invoke();
    }

    /// <summary>Keys stored before devices existed hold one share on the key itself: it becomes the primary device.</summary>
    public void MigrateLegacyShares()
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

    /// <summary>The public facts about a key, with the status the status record gives it.</summary>
    public static KeySummary Summarize(StoredKey key, KeyStatus status)
    {
        EcCurve curve = EcCurve.Get(key.CurveKind);
        byte[] spki = PublicKeyEncoding.ToSubjectPublicKeyInfo(curve, curve.DecodePoint(key.PublicKey, "public key"));
        return new KeySummary(key.KeyId, key.CurveKind, spki, status, key.CreatedAt, [.. key.CertificateChain], key.Imported);
    }

    private void Restore(string keyId, StoredKey? before)
    {
        if (before is null)
        {
            state.State.Keys.Remove(keyId);
        }
        else
        {
            state.State.Keys[keyId] = before;
        }
    }
}
