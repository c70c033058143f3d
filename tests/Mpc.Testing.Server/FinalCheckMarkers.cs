using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Sealing;
using Mpc.Grains.Storage;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Signing;
using Org.BouncyCastle.Math;
using Orleans;
using Orleans.Runtime;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Testing;

/// <summary>
/// Final-check markers written into a server's storage from outside, as an activation that died mid-check leaves them.
/// Built from the client's side alone: R2 = ρ·G, any r and digest, and c3 = c_key^α · Enc(β) with α = ρ⁻¹·r·x2 and
/// β = ρ⁻¹·m, so that s' = α·x1 + β satisfies s'·R2 = m·G + r·Q (the re-run passes). A failing marker adds 1 to β,
/// the honest way a stored marker can hold a c3 whose check fails now that c3 carries a proof.
/// </summary>
public static class FinalCheckMarkers
{
    public static PendingFinalCheck For(MpcKey key, bool passing)
    {
        EcCurve curve = EcCurve.Get(key.Curve);
        BigInteger q = curve.Order;
        BigInteger rho = curve.RandomScalar();
        BigInteger r = curve.RandomScalar();
        byte[] digest = RandomNumberGenerator.GetBytes(key.Curve == CurveKind.P384 ? 48 : 32);
        BigInteger m = curve.DigestToScalar(Digest.Parse(digest));
        BigInteger rhoInverse = rho.ModInverse(q);
        BigInteger alpha = rhoInverse.Multiply(r).Multiply(key.Share.X2).Mod(q);
        BigInteger beta = rhoInverse.Multiply(m).Mod(q);
        if (!passing)
        {
            beta = beta.Add(BigInteger.One);
        }
        PaillierPublicKey paillier = key.Share.Paillier;
        BigInteger c3 = paillier.Add(paillier.Multiply(key.Share.EncryptedServerShare, alpha), paillier.Encrypt(beta));
        ECPoint r2 = curve.MultiplyBase(rho);
        return new PendingFinalCheck
        {
            CheckId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            DeviceId = key.Share.DeviceId,
            Since = DateTimeOffset.UtcNow,
            C3 = c3.ToByteArrayUnsigned(),
            R2 = curve.EncodePoint(r2),
            R = curve.EncodeScalar(r),
            Digest = digest,
        };
    }

    /// <summary>
    /// Gives <paramref name="marker"/> the tag the server would have written, computed with the server's share as stored
    /// (unsealed with the data directory's key-encryption key): what a marker the server itself wrote carries. Without
    /// this, a planted marker is one the server never authenticated, and it is never re-run.
    /// </summary>
    public static async Task AuthenticateAsync(string dataDirectory, string masterKeyDirectory, string user, string keyId, PendingFinalCheck marker)
    {
        StoredKeys storedKeys = await StoredKeys.ReadAsync(dataDirectory, user);
        StoredDevice device = storedKeys.Keys.Keys[keyId].Devices[marker.DeviceId];
        using var masterKey = new FileKeyEncryptionKeyProvider(masterKeyDirectory);
        byte[] secret = await new ShareSealer(masterKey).OpenAsync(device.SealedShare, new SealContext(user, keyId, device.SealPurpose), CancellationToken.None);
        try
        {
            using ServerKeyShare share = ServerKeyShare.ImportSecret(secret, BigNumBackends.Default);
            marker.Tag = FinalCheck.Tag(share, marker.DeviceId, marker.ToRecord()!);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Stores <paramref name="marker"/> for the key in the user's status record (the grain must not be active).</summary>
    public static async Task PlantAsync(string dataDirectory, string user, string keyId, PendingFinalCheck marker)
    {
        var storage = new FileGrainStorage(StorageNames.Keys, dataDirectory, StoredKeys.Serializer);
        var grainId = GrainId.Create(GrainTypes.UserKeys, user);
        var status = new GrainState<KeyStatusState>();
        await storage.ReadStateAsync("status", grainId, status);
        status.State ??= new KeyStatusState();
        if (!status.State.Keys.TryGetValue(keyId, out KeyStatusEntry? entry))
        {
            entry = new KeyStatusEntry();
            status.State.Keys[keyId] = entry;
        }
        entry.PendingCheck = marker;
        await storage.WriteStateAsync("status", grainId, status);
    }

    /// <summary>
    /// Waits until the key's final-check marker is gone from storage: the grain's idle timer clears it after the
    /// signature (SignerOptions.FinalCheckMarkerClearDelay), and once that write is stored nothing of the grain's writes
    /// it any more, so a write from outside is the only writer. Polls, since storage has nothing to wait on.
    /// </summary>
    public static async Task ClearedAsync(string dataDirectory, string user, string keyId)
    {
        var storage = new FileGrainStorage(StorageNames.Keys, dataDirectory, StoredKeys.Serializer);
        var grainId = GrainId.Create(GrainTypes.UserKeys, user);
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var status = new GrainState<KeyStatusState>();
            await storage.ReadStateAsync("status", grainId, status);
            if (status.State?.Keys.GetValueOrDefault(keyId)?.PendingCheck is null)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the final-check marker of {user}'s key {keyId} was not cleared in 30 s");
            }
            await Task.Delay(50);
        }
    }

    public static async Task<KeyStatusState> ReadAsync(string dataDirectory, string user)
    {
        var status = new GrainState<KeyStatusState>();
        await new FileGrainStorage(StorageNames.Keys, dataDirectory, StoredKeys.Serializer)
            .ReadStateAsync("status", GrainId.Create(GrainTypes.UserKeys, user), status);
        return status.State ?? throw new InvalidOperationException("no status record stored for " + user);
    }
}
