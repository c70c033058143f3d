using System.Security.Cryptography;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// The key generation that a revocation, refresh, restore or unfreeze advances in the status record before it writes the
/// devices (docs/service.md, "Device changes and stale activations"). Between the two writes a change fails closed; these
/// tests show it does not stay closed for the honest devices when the second write never comes.
/// </summary>
public sealed class KeyGenerationTests : IAsyncLifetime
{
    private readonly FaultInjectingGrainStorage _storage;
    private readonly ServerFixture _server;

    public KeyGenerationTests() =>
        (_server, _storage) = ServerFixture.WithWrappedKeyStorage("mpc-generation-", inner => new FaultInjectingGrainStorage(inner));

    public Task InitializeAsync() => _server.InitializeAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_revocation_cut_off_between_its_two_writes_leaves_the_devices_as_stored_and_signing_after_a_restart()
    {
        const string user = "generation-cut-off";
        using MpcSignerClient client = _server.Client(user);
        using MpcKey phone = await client.CreateKeyAsync(CurveKind.P256);
        using ClientKeyShare backup = await client.CreateBackupAsync(phone, "safe");
        long before = (await FinalCheckMarkers.ReadAsync(_server.DataDirectory, user)).Keys[phone.KeyId].Generation;

        // The generation is advanced; the devices' write fails, as if the silo died between the two.
        _storage.FailWritesWhen((stateName, _) => stateName == "keys");
        MpcSignerException cutOff = await Assert.ThrowsAsync<MpcSignerException>(() => client.RevokeDeviceAsync(phone.KeyId, phone.Share.DeviceId));
        Assert.Equal(StatusCode.Internal, cutOff.Status);
        _storage.FailWritesWhen(null);
        Assert.Equal(before + 1, (await FinalCheckMarkers.ReadAsync(_server.DataDirectory, user)).Keys[phone.KeyId].Generation);
        Assert.Equal(before, (await StoredKeys.ReadAsync(_server.DataDirectory, user)).Keys.Keys[phone.KeyId].Generation);
        await _server.RestartAsync();

        // The revocation never reached the devices, so the phone's pair is still live: its next signature settles the
        // devices as stored under a new generation (both records agree again) and goes ahead.
        using MpcSignerClient again = _server.Client(user);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, phone.SubjectPublicKeyInfo, digest, await again.SignDigestAsync(phone, digest)));
        long settled = (await FinalCheckMarkers.ReadAsync(_server.DataDirectory, user)).Keys[phone.KeyId].Generation;
        Assert.True(settled > before + 1, $"the devices were not settled under a new generation ({settled})");
        Assert.Equal(settled, (await StoredKeys.ReadAsync(_server.DataDirectory, user)).Keys.Keys[phone.KeyId].Generation);
        Assert.False((await again.ListDevicesAsync(phone.KeyId)).Single(d => d.DeviceId == phone.Share.DeviceId).Revoked);
    }
}
