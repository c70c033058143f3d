using Mpc.Grains.Abstractions;
using Mpc.Protocol.Signing;

namespace Mpc.Grains;

/// <summary>
/// The status of a user's keys, stored apart from <see cref="UserKeysState"/> ("status" beside "keys"): nothing the
/// user controls (chains, labels, devices) lives here, so its writes cannot be made to fail by growing the record.
/// About 250 bytes per key; <see cref="UserStateLimits.MaxKeysPerUser"/> keys at most.
/// </summary>
[GenerateSerializer, Alias("mpc.KeyStatusState")]
public sealed class KeyStatusState
{
    [Id(0)]
    public Dictionary<string, KeyStatusEntry> Keys { get; set; } = [];

    /// <summary>The entry of <paramref name="keyId"/>, added (Active, no marker) when there is none.</summary>
    public KeyStatusEntry EntryFor(string keyId)
    {
        if (!Keys.TryGetValue(keyId, out KeyStatusEntry? entry))
        {
            entry = new KeyStatusEntry();
            Keys[keyId] = entry;
        }
        return entry;
    }

    /// <summary>Marks the key Frozen with <paramref name="facts"/>' details, keeping the first freeze's details if it already is.</summary>
    public void ApplyFreeze(string keyId, KeyStatusEntry facts)
    {
        KeyStatusEntry entry = EntryFor(keyId);
        if (entry.Status != KeyStatus.Frozen)
        {
            entry.Status = KeyStatus.Frozen;
            entry.FrozenAt = facts.FrozenAt;
            entry.FrozenReason = facts.FrozenReason;
            entry.FrozenDevice = facts.FrozenDevice;
        }
        // Frozen says more than the marker of the check that failed; an unfreeze clears both.
        entry.PendingCheck = null;
    }
}

[GenerateSerializer, Alias("mpc.KeyStatusEntry")]
public sealed class KeyStatusEntry
{
    [Id(0)]
    public KeyStatus Status { get; set; } = KeyStatus.Active;

    [Id(1)]
    public DateTimeOffset? FrozenAt { get; set; }

    /// <summary>Server-chosen text (never caller input), so the record stays small.</summary>
    [Id(2)]
    public string? FrozenReason { get; set; }

    [Id(3)]
    public string? FrozenDevice { get; set; }

    /// <summary>How many times an operator has lifted a freeze (of either kind); capped, since each may have leaked.</summary>
    [Id(4)]
    public int Unfreezes { get; set; }

    /// <summary>
    /// Written before c3 is decrypted and cleared (lazily) once the signature verified. Found by anyone but the
    /// activation that wrote it and knows the check passed, it means "the check failed or was cut short": frozen
    /// until the finder re-runs the check from it (passed: cleared; failed: Frozen).
    /// </summary>
    [Id(5)]
    public PendingFinalCheck? PendingCheck { get; set; }

    /// <summary>
    /// Advanced, ETag-checked, before every change to which of the key's share pairs may sign is written to the user's
    /// <c>keys</c> record, which then stores it on the key (<see cref="StoredKey.Generation"/>). The marker write before a
    /// decryption passes only while this equals the generation of the activation's copy of the key: an activation whose
    /// copy predates a revocation, refresh, restore or unfreeze made elsewhere decrypts nothing for it. 0 in records
    /// written before generations existed.
    /// </summary>
    [Id(6)]
    public long Generation { get; set; }
}

/// <summary>A final signature check in progress: decryption may have happened, its outcome is not recorded.</summary>
[GenerateSerializer, Alias("mpc.PendingFinalCheck")]
public sealed class PendingFinalCheck
{
    /// <summary>Random, per check: tells this activation's own finished checks from anyone else's.</summary>
    [Id(0)]
    public string CheckId { get; set; } = "";

    [Id(1)]
    public string DeviceId { get; set; } = "";

    [Id(2)]
    public DateTimeOffset Since { get; set; }

    // What re-running the check needs without k1 (FinalCheck.Recheck): c3 (its proof accepted before the marker was
    // written), R2, r and the digest. All public or server-held; null in markers written before recovery existed,
    // which stay frozen. About 600 bytes with a 2048-bit Paillier N.
    [Id(3)]
    public byte[]? C3 { get; set; }

    [Id(4)]
    public byte[]? R2 { get; set; }

    [Id(5)]
    public byte[]? R { get; set; }

    [Id(6)]
    public byte[]? Digest { get; set; }

    /// <summary>
    /// FinalCheck.Tag of the record under the server's share: only a marker this server wrote is ever re-run (decrypted).
    /// Null in markers written before tags existed, which stay frozen.
    /// </summary>
    [Id(7)]
    public byte[]? Tag { get; set; }

    /// <summary>The record to re-run the check from, or null for a marker that does not carry one (written by old code).</summary>
    public FinalCheckRecord? ToRecord() =>
        C3 is null || R2 is null || R is null || Digest is null ? null : new FinalCheckRecord(C3, R2, R, Digest);
}
