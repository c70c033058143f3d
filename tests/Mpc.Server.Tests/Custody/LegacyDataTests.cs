using System.Buffers.Binary;
using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Sealing;
using Mpc.Protocol.Keys;

namespace Mpc.Server.Tests.Custody;

/// <summary>
/// Data written before devices existed: a key with one share sealed on the key record (purpose
/// "server-key-share"), and a version-1 client share without a device id (nor the server's ring-Pedersen parameters
/// that signing proofs need). The key must refresh; the refreshed share signs; the old one is refused before any call.
/// </summary>
[Collection("server")]
public sealed class LegacyDataTests(ServerFixture server)
{
    private const string User = "legacy-user";

    [Fact]
    public async Task A_key_stored_before_devices_existed_signs_and_refreshes_with_a_version_1_client_share()
    {
        byte[] exported;
        string keyId;
        byte[] spki;
        using (MpcSignerClient client = server.Client(User))
        using (MpcKey key = await client.CreateKeyAsync(CurveKind.P256))
        {
            exported = key.Share.ExportSecret();
            keyId = key.KeyId;
            spki = key.SubjectPublicKeyInfo;
        }

        // Rewrite the stored state and the client share into the previous release's forms.
        await server.StopAsync();
        StoredKeys storedKeys = await StoredKeys.ReadAsync(server.DataDirectory, User);
        StoredKey stored = storedKeys.Keys.Keys[keyId];
        StoredDevice primary = stored.Devices["primary"];
        using (var masterKey = new FileKeyEncryptionKeyProvider(server.MasterKeyDirectory))
        {
            var sealer = new ShareSealer(masterKey);
            byte[] secret = await sealer.OpenAsync(primary.SealedShare, new SealContext(User, keyId, primary.SealPurpose), CancellationToken.None);
            stored.SealedShare = await sealer.SealAsync(secret, new SealContext(User, keyId, "server-key-share"), CancellationToken.None);
            CryptographicOperations.ZeroMemory(secret);
        }
        stored.Devices.Clear();
        await storedKeys.WriteAsync();
        byte[] version1 = ToVersion1(exported);
        await server.StartAsync();

        using MpcSignerClient again = server.Client(User);
        using MpcKey legacy = again.OpenKey(ClientKeyShare.ImportSecret(version1, BigNumBackends.Default));
        Assert.Equal("primary", legacy.Share.DeviceId);
        Assert.False(legacy.Share.CanSign);
        byte[] document = RandomNumberGenerator.GetBytes(64);
        MpcSignerException mustRefresh = await Assert.ThrowsAsync<MpcSignerException>(() => again.SignDataAsync(legacy, document));
        Assert.Contains("mpc refresh", mustRefresh.Message, StringComparison.Ordinal);
        Assert.Equal(MpcErrorReason.InvalidRingPedersenParameters, mustRefresh.Reason);
        Assert.Null(mustRefresh.Status);
        Assert.Equal(0, legacy.PreparedRandomness);

        MpcDeviceInfo device = Assert.Single(await again.ListDevicesAsync(keyId));
        Assert.Equal("primary", device.DeviceId);
        using MpcKey refreshed = await again.RefreshKeyAsync(legacy);
        Assert.True(refreshed.Share.CanSign);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, spki, MpcSignerClient.HashFor(CurveKind.P256, document), await again.SignDataAsync(refreshed, document)));
        // The refreshed share survives its own export (version 3) and signs again.
        using MpcKey reloaded = again.OpenKey(ClientKeyShare.ImportSecret(refreshed.Share.ExportSecret(), BigNumBackends.Default));
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, spki, MpcSignerClient.HashFor(CurveKind.P256, document), await again.SignDataAsync(reloaded, document)));
    }

    /// <summary>The version-1 export: version 1, no trailing device id field and no ring-Pedersen (s, t).</summary>
    private static byte[] ToVersion1(byte[] version3)
    {
        ClientKeyShare share = ClientKeyShare.ImportSecret(version3, BigNumBackends.Default);
        int ringPedersen = 4 + share.ServerRingPedersen!.S.ToByteArray().Length + 4 + share.ServerRingPedersen.T.ToByteArray().Length;
        int deviceField = 4 + "primary".Length;
        byte[] version1 = version3[..^(ringPedersen + deviceField)];
        BinaryPrimitives.WriteUInt32BigEndian(version1.AsSpan(4), 1); // after the field's 4-byte length
        Assert.Equal("primary"u8.ToArray(), version3[^(ringPedersen + "primary".Length)..^ringPedersen]);
        return version1;
    }
}
