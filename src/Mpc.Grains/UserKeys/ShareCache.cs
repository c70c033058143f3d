using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Sealing;
using Mpc.Protocol.Keys;

namespace Mpc.Grains;

/// <summary>
/// The user's server shares, unsealed into this activation's memory on first use and sealed before they reach
/// storage. Nothing here is ever written anywhere; dropping a share disposes it (its buffers are zeroed).
/// </summary>
internal sealed class ShareCache(string userId, ShareSealer sealer, IBigNumBackend backend, ILogger logger)
{
    private readonly Dictionary<string, ServerKeyShare> _shares = [];

    /// <summary>The unsealed share of the device's pair, opened from storage on first use.</summary>
    public async Task<ServerKeyShare> Open(StoredKey key, StoredDevice device)
    {
        string cacheKey = CacheKey(key.KeyId, device.DeviceId);
        if (_shares.TryGetValue(cacheKey, out ServerKeyShare? cached))
        {
            return cached;
        }
        byte[] secret;
        try
        {
            secret = await sealer.OpenAsync(device.SealedShare, new SealContext(userId, key.KeyId, device.SealPurpose), CancellationToken.None);
        }
        catch (SealedDataException e)
        {
            logger.LogError(e, "The sealed share of key {KeyId}, device {DeviceId} could not be opened", key.KeyId, device.DeviceId);
            throw new SignerException(SignerErrorKind.Internal, $"The stored share of key '{key.KeyId}' cannot be opened with the configured key-encryption key.");
        }
        try
        {
            ServerKeyShare share;
            try
            {
                share = ServerKeyShare.ImportSecret(secret, backend);
            }
            catch (MpcProtocolException e)
            {
                // The server's own data, unsealed with its own key, is damaged: nothing the client sent or can change, so not a
                // refusal of its request. The operator gets the reason (the failed check's field names, never its values); the
                // client only hears that the share cannot be used.
                logger.LogError("The stored share of key {KeyId}, device {DeviceId} unsealed but is not a usable server key share ({Code}: {Reason})",
                    key.KeyId, device.DeviceId, e.Code, e.Message);
                throw new SignerException(SignerErrorKind.Internal, $"The stored share of key '{key.KeyId}' cannot be used (the server's log says why); nothing was changed.");
            }
            if (device.ShareId.Length == 0)
            {
                // A pair sealed before share ids existed: its id is derived data, written with the next state write.
                device.ShareId = share.ShareId;
            }
            _shares[cacheKey] = share;
            return share;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>A new device record holding <paramref name="share"/> sealed for this user, key and device.</summary>
    public async Task<StoredDevice> Seal(string keyId, string deviceId, DeviceKind kind, string label, ServerKeyShare share, DateTimeOffset now)
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
                SealedShare = await sealer.SealAsync(secret, new SealContext(userId, keyId, purpose), CancellationToken.None),
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

    /// <summary>Keeps a share just stored, for the pair's first signatures.</summary>
    public void Keep(string keyId, string deviceId, ServerKeyShare share) => _shares[CacheKey(keyId, deviceId)] = share;

    /// <summary>Forgets the unsealed share of one device, or of every device of the key.</summary>
    public void Drop(string keyId, string? deviceId)
    {
        foreach (string cacheKey in _shares.Keys.Where(k => deviceId is null ? k.StartsWith(keyId + "/", StringComparison.Ordinal) : k == CacheKey(keyId, deviceId)).ToList())
        {
            _shares.Remove(cacheKey, out ServerKeyShare? share);
            share?.Dispose();
        }
    }

    public void Clear()
    {
        foreach (ServerKeyShare share in _shares.Values)
        {
            share.Dispose();
        }
        _shares.Clear();
    }

    private static string CacheKey(string keyId, string deviceId) => keyId + "/" + deviceId;
}
