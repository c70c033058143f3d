using Microsoft.Extensions.Logging;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Mpc.Protocol.Keys;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Grains.Telemetry;

namespace Mpc.Grains;

/// <summary>
/// What one activation of a user's grain holds, shared by the classes the grain routes to: the stored key record and
/// status record, the in-memory sessions and unsealed shares, and the services they use. Plain: no grain in here.
/// </summary>
internal sealed class UserKeysContext
{
    public required string UserId { get; init; }

    public required KeyRecord Keys { get; init; }

    public required KeyStatusRecord Status { get; init; }

    public required ShareCache Shares { get; init; }

    public required SigningSessions Signs { get; init; }

    public required KeyGenSessions KeyGens { get; init; }

    public required RefreshSessions Refreshes { get; init; }

    /// <summary>Per key: signatures whose nonce round ran, released or not (<see cref="SignerOptions.MaxSignaturesPerKey"/>).</summary>
    public required SlidingWindowLimit SigningRate { get; init; }

    /// <summary>For this user: rounds that make a new Paillier key (<see cref="SignerOptions.MaxPaillierKeysPerUser"/>).</summary>
    public required SlidingWindowLimit PaillierKeyRate { get; init; }

    /// <summary>For this user: certificate chains set (<see cref="SignerOptions.MaxCertificateChainsPerUser"/>).</summary>
    public required SlidingWindowLimit CertificateChainRate { get; init; }

    public required SignerOptions Options { get; init; }

    public required TimeProvider Time { get; init; }

    public required IBigNumBackend Backend { get; init; }

    /// <summary>The server's pool of ready Paillier keys when the host registers one; inline generation otherwise.</summary>
    public required IPaillierKeySource PaillierKeys { get; init; }

    /// <summary>This user's client ring-Pedersen parameters the silo already verified, when the host keeps them; null verifies every time.</summary>
    public VerifiedRingPedersenScope? KnownClientParameters { get; init; }

    public required SignerMetrics Metrics { get; init; }

    public required IKeyAuditTrail Audit { get; init; }

    public required ILogger Logger { get; init; }

    /// <summary>Records a new key id's owner durably (true when this user owns it now).</summary>
    public required Func<string, Task<bool>> ClaimKeyId { get; init; }

    /// <summary>The key, not frozen (NotFound, Frozen otherwise).</summary>
    public StoredKey RequireSignableKey(string keyId)
    {
        StoredKey key = Keys.Require(keyId);
        return Status.IsFrozen(key) ? throw SignerErrors.Frozen(keyId) : key;
    }

    /// <summary>
    /// <see cref="RequireSignableKey"/>, from a copy of the key's devices made under the generation the status record holds
    /// (as this activation last read it), for a new signing session: only such a copy's sessions pass the marker write.
    /// A copy of another generation is read again, with the status record; if the two still differ, the change
    /// that advanced it never wrote them (its activation stopped between its two writes, or is between them now), and the
    /// devices as stored are committed under a new generation. That write fences the unfinished change: if its own write
    /// of the devices still comes, it meets this one's ETag and fails, so the pairs that sign are the ones stored here.
    /// </summary>
    public async Task<StoredKey> RequireCurrentSignableKeyAsync(string keyId)
    {
        StoredKey key = RequireSignableKey(keyId);
        if (key.Generation == Status.GenerationOf(keyId))
        {
            return key;
        }
        try
        {
            // Another activation changed the devices: the shares and sessions of this copy go with it (Keys.Reloaded). The
            // status record first: a change writes it first, so devices read after it are at least as new as its generation.
            await Status.ReloadAsync();
            await Keys.ReloadAsync();
        }
        catch (Exception e)
        {
            Logger.LogError(e, "Re-reading the devices and status of key {KeyId} after a change elsewhere failed", keyId);
            throw new SignerException(SignerErrorKind.Internal, "The server could not read the key's devices; try again.");
        }
        key = RequireSignableKey(keyId);
        if (key.Generation != Status.GenerationOf(keyId))
        {
            await CommitPairChangeAsync(new KeyChange(keyId, current => current!, "The server could not settle the key's devices; try again."));
        }
        return RequireSignableKey(keyId);
    }

    /// <summary>
    /// The one way to commit a change to which of the key's share pairs may sign (a revocation; a refresh, restore,
    /// enrolment or backup; an unfreeze's must-refresh): the key's generation is advanced in the status record first,
    /// then the change is written to the key with it. A stale activation's copy of the devices then fails the marker
    /// write's generation check before any decryption. A crash between the two writes fails closed and heals: sessions
    /// made from the old copy are refused, and the next <see cref="RequireCurrentSignableKeyAsync"/> settles the devices
    /// as stored. Throws Internal with the change's failure text when either write fails.
    /// </summary>
    public async Task<StoredKey> CommitPairChangeAsync(KeyChange change)
    {
        long generation = await Status.AdvanceGenerationAsync(Keys.Require(change.KeyId), change.Failure);
        return await Keys.CommitAsync(change with
        {
            Apply = current =>
            {
                StoredKey changed = change.Apply(current);
                changed.Generation = generation;
                return changed;
            },
        });
    }

    /// <summary>
    /// Refuses a key generation, refresh or import at its start when this user's rounds that make a Paillier key are at
    /// their limit, before the client does its part of the work for nothing. Counts nothing: its later round does.
    /// </summary>
    public void RequirePaillierKeyRoom() => PaillierKeyRate.Check(UserId, "This user");

    /// <summary>
    /// Counts a round that makes a new Paillier key and its proofs, or refuses it (ResourceExhausted, with when to
    /// retry) at the limit. Charged as the round starts, whatever becomes of it: a session abandoned, replaced or
    /// refused later has cost the server the same work.
    /// </summary>
    public void ChargePaillierKey() => PaillierKeyRate.Take(UserId, "This user");

    public KeySummary Summarize(StoredKey key) => KeyRecord.Summarize(key, Status.StatusOf(key));

    /// <summary>Forgets unsealed shares and open signing sessions of one device, or of every device of the key.</summary>
    public void DropShares(string keyId, string? deviceId)
    {
        Shares.Drop(keyId, deviceId);
        foreach (string session in Signs.Where(s => s.Value.KeyId == keyId && (deviceId is null || s.Value.DeviceId == deviceId)).Select(s => s.Key).ToList())
        {
            Signs.Remove(session);
        }
    }

    /// <summary>Forgets every unsealed share and signing session (the stored state they came from was replaced).</summary>
    public void DropAll()
    {
        Shares.Clear();
        Signs.Clear();
    }

    public void PurgeExpired()
    {
        Signs.Purge();
        Refreshes.Purge();
        KeyGens.Purge();
    }

    /// <summary>
    /// Makes the frozen status durable before anyone is answered, in the small status record. The key is frozen in
    /// this activation first; if storage refuses, the final-check marker already stored keeps it frozen for every
    /// activation and the caller gets Internal, never a signature.
    /// </summary>
    public async Task Freeze(string keyId, string deviceId, string reason)
    {
        Logger.LogWarning("Freezing key {KeyId} (device {DeviceId}): {Reason}", keyId, deviceId, reason);
        Metrics.Frozen();
        DropShares(keyId, deviceId: null);
        await Status.FreezeAsync(keyId, deviceId, reason);
    }

    /// <summary>Runs one protocol step; its refusal becomes the grain's (<see cref="SignerErrors.From"/>).</summary>
    public static T Protocol<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (MpcProtocolException e)
        {
            throw SignerErrors.From(e);
        }
    }
}
