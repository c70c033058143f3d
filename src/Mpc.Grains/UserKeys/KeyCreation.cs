using Microsoft.Extensions.Logging;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;

namespace Mpc.Grains;

/// <summary>Key generation for one user, and the one way a new key (generated or imported) is stored.</summary>
internal sealed class KeyCreation(UserKeysContext context)
{
    public byte[] BeginKeyGen(string keyId, byte[] request)
    {
        RequireUnusedKeyId(keyId);
        context.PurgeExpired();
        context.KeyGens.RequireRoom();
        // Every cap the store will check, before the client and the server spend a key generation on a refusal.
        UserStateLimits.RequireKeyCapacity(context.Keys.State, context.KeyGens.Count + context.Refreshes.Imports);
        UserStateLimits.RequireDeviceCapacity(context.Keys.State);
        context.RequirePaillierKeyRoom();
        KeyGenRequest decoded = UserKeysContext.Protocol(() => KeyGenRequest.Decode(request));
        var session = new KeyGenServerSession(keyId, context.Backend, context.Options.PaillierModulusBits) { PaillierKeys = context.PaillierKeys, KnownClientParameters = context.KnownClientParameters };
        KeyGenCommitment commitment;
        try
        {
            commitment = UserKeysContext.Protocol(() => session.HandleRequest(decoded));
        }
        catch
        {
            session.Dispose();
            throw;
        }
        context.KeyGens.Add(keyId, session, decoded.Curve);
        return commitment.Encode();
    }

    /// <summary>
    /// A key generation or an import starts only on an id no key, key generation or import (a refresh of its own) holds:
    /// two under one id would end with the second store replacing the first key.
    /// </summary>
    public void RequireUnusedKeyId(string keyId)
    {
        Identifiers.RequireKeyId(keyId);
        if (context.Keys.Contains(keyId) || context.KeyGens.Contains(keyId) || context.Refreshes.AnyFor(keyId))
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition, $"Key '{keyId}' already exists.");
        }
    }

    /// <summary>Rounds 3 → 4: the key is stored before this returns.</summary>
    public async Task<KeyGenCompletion> CompleteKeyGen(string keyId, byte[] clientShare)
    {
        KeyGenServerOutput output = await Compute(keyId, clientShare);
        return new KeyGenCompletion(output.Message.Encode(), await StoreGenerated(keyId, output.Share));
    }

    /// <summary>
    /// Rounds 3 → 4 with the key left waiting, in memory and unclaimed, for <see cref="ConfirmKeyGen"/>: a client that
    /// cannot keep its own share (a device profile that does not open) then leaves nothing behind. Returns round 4.
    /// </summary>
    public async Task<byte[]> CompleteKeyGenToConfirm(string keyId, byte[] clientShare)
    {
        Identifiers.RequireKeyId(keyId);
        context.KeyGens.RequireConfirmationRoom();
        KeyGenServerOutput output = await Compute(keyId, clientShare);
        context.KeyGens.AwaitConfirmation(keyId, output.Share);
        return output.Message.Encode();
    }

    private async Task<KeyGenServerOutput> Compute(string keyId, byte[] clientShare)
    {
        Identifiers.RequireKeyId(keyId);
        context.PurgeExpired();
        if (context.KeyGens.IsPending(keyId))
        {
            // Before the session is taken: refused, the key generation stays pending and the same completion may be
            // sent again when the window frees a place (its RetryInfo), as after a refusal for confirmation room.
            context.ChargePaillierKey();
        }
        PendingKeyGen pending = context.KeyGens.Take(keyId);
        using KeyGenServerSession session = pending.Session;
        KeyGenClientShare decoded = UserKeysContext.Protocol(() => KeyGenClientShare.Decode(clientShare, pending.Curve));
        // Paillier key generation and the proofs take about a second: keep them off the silo's scheduler threads.
        return await Task.Run(() => UserKeysContext.Protocol(() => session.HandleClientShare(decoded)));
    }

    /// <summary>
    /// Stores a key its completion left waiting for confirmation; NotFound once it has expired. Idempotent, so that a
    /// device whose confirmation's reply was lost can ask again: a key of this user already stored is returned as it
    /// is, and a key whose storing failed for a reason that may pass waits for the next confirmation.
    /// </summary>
    public async Task<KeySummary> ConfirmKeyGen(string keyId)
    {
        Identifiers.RequireKeyId(keyId);
        if (context.Keys.Find(keyId) is { } stored)
        {
            return context.Summarize(stored);
        }
        ServerKeyShare share = context.KeyGens.TakeUnconfirmed(keyId);
        return await StoreGenerated(keyId, share, keepForRetry: true);
    }

    /// <summary>
    /// Stores the generated key with its first device (claiming its id). On failure nothing is kept and the share
    /// is disposed; with <paramref name="keepForRetry"/>, a failure that may pass (Internal: the claim or the write
    /// failed) leaves it waiting for the next confirmation instead.
    /// </summary>
    private async Task<KeySummary> StoreGenerated(string keyId, ServerKeyShare share, bool keepForRetry = false)
    {
        StoredKey stored;
        StoredDevice device;
        try
        {
            (stored, device) = await StoreNewKey(keyId, share, "", imported: false, []);
        }
        catch (Exception e)
        {
            if (keepForRetry && e is SignerException { Kind: SignerErrorKind.Internal })
            {
                context.KeyGens.AwaitConfirmation(keyId, share);
            }
            else
            {
                share.Dispose();
            }
            throw;
        }
        string curve = EcCurve.Get(share.Curve).Name;
        context.Audit.Record(keyId, AuditEventKind.KeyGen, device.DeviceId, default, AuditOutcomes.Ok, curve);
        context.Logger.LogInformation("Created key {KeyId} on {Curve}", keyId, curve);
        return context.Summarize(stored);
    }

    /// <summary>
    /// Records this user as the key id's owner, durably, just before the key itself is stored: an abandoned key
    /// generation or import leaves no record. The id is 128 random bits, but if it were taken nothing is stored.
    /// </summary>
    private async Task ClaimKeyId(string keyId)
    {
        bool claimed;
        try
        {
            claimed = await context.ClaimKeyId(keyId);
        }
        catch (Exception e) when (e is not SignerException)
        {
            context.Logger.LogError(e, "Claiming key id {KeyId} failed", keyId);
            throw new SignerException(SignerErrorKind.Internal, "The key id could not be recorded; nothing was stored. Try again.");
        }
        if (!claimed)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition, $"Key id '{keyId}' is already taken; nothing was stored. Start again.");
        }
    }

    /// <summary>
    /// Stores a new key (generated or imported) with its first device, "primary", in one commit; a failed write keeps
    /// nothing. The caps are checked again (other keys or devices may have been stored since the first round) before
    /// the key id is claimed: a claim is durable, so one made for a store that is then refused would stay behind, once
    /// per attempt. The unsealed share is cached for the key's first signatures.
    /// </summary>
    public async Task<(StoredKey Key, StoredDevice Device)> StoreNewKey(string keyId, ServerKeyShare share, string label, bool imported, IReadOnlyList<byte[]> certificateChain)
    {
        // A new key never replaces a stored one: that would destroy its server shares, and every device's share with them.
        RequireNoKey(keyId, context.Keys.Find(keyId));
        UserStateLimits.RequireKeyCapacity(context.Keys.State, inProgress: 0);
        UserStateLimits.RequireDeviceCapacity(context.Keys.State);
        DateTimeOffset now = context.Time.GetUtcNow();
        IReadOnlyList<byte[]> chain = certificateChain.Count > 0
            ? CertificateChains.Parse(certificateChain, share.Curve, EcCurve.Get(share.Curve).EncodePoint(share.PublicKey))
            : [];
        if (chain.Count > 0)
        {
            UserStateLimits.RequireChainCapacity(context.Keys.State, keyId, chain);
        }
        await ClaimKeyId(keyId);
        StoredDevice device = await context.Shares.Seal(keyId, ClientKeyShare.PrimaryDevice, DeviceKind.Device, label, share, now);
        StoredKey stored = await context.Keys.CommitAsync(new KeyChange(keyId, existing =>
        {
            RequireNoKey(keyId, existing);
            var key = new StoredKey
            {
                KeyId = keyId,
                Curve = (int)share.Curve,
                PublicKey = EcCurve.Get(share.Curve).EncodePoint(share.PublicKey),
                Status = KeyStatus.Active,
                CreatedAt = now,
                Imported = imported,
                CertificateChain = [.. chain],
            };
            key.Devices[device.DeviceId] = device;
            return key;
        }, imported ? "The imported key could not be stored; nothing was kept. Try again." : "The key could not be stored; nothing was kept. Try again."));
        context.Shares.Keep(keyId, device.DeviceId, share);
        return (stored, device);
    }

    private static void RequireNoKey(string keyId, StoredKey? existing)
    {
        if (existing is not null)
        {
            throw new SignerException(SignerErrorKind.FailedPrecondition, $"Key '{keyId}' already exists; nothing was stored.");
        }
    }
}
