using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Client.DeviceProfiles;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Client.Tests.KeyStore;

namespace Mpc.Client.Tests.Custody;

/// <summary>
/// The device profile in the SDK: the sealed file round trip, the refusals (another device, a flipped byte, another
/// passphrase), and two client instances (two CLI runs) sharing one profile through the store: saved once, loaded after.
/// </summary>
[Collection("server")]
public sealed class DeviceProfileTests(ServerFixture server) : IDisposable
{
    private const string Device = "device-test-a";
    private readonly TempDirectory _directory = new();

    private string ProfilePath => Path.Combine(_directory.Path, "mpc-device.profile");

    private DeviceProfileFile Store(string deviceId = Device, string passphrase = "profile passphrase") =>
        new(ProfilePath, deviceId, KeyFileProtection.Passphrase(passphrase), null, KeyStoreFixture.Cheap);

    /// <summary>The fixture's parameters as a profile (the fixture owns them: not disposed here).</summary>
    private DeviceProfile SharedProfile(string deviceId = Device) => DeviceProfile.From(deviceId, server.RingPedersen, DateTimeOffset.UtcNow);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_saved_profile_loads_back_with_the_same_parameters_and_device()
    {
        DeviceProfile saved = SharedProfile();
        Assert.Null(await Store().LoadAsync(CancellationToken.None));
        await Store().SaveAsync(saved, CancellationToken.None);

        using DeviceProfile? loaded = await Store().LoadAsync(CancellationToken.None);

        Assert.NotNull(loaded);
        Assert.Equal(Device, loaded.DeviceId);
        Assert.Equal(saved.CreatedAt, loaded.CreatedAt);
        Assert.Equal(server.RingPedersen.Parameters, loaded.RingPedersen.Parameters);
        Assert.Equal(saved.Fingerprint, loaded.Fingerprint);
        // Nothing of the trapdoor is in the file in clear.
        byte[] file = await File.ReadAllBytesAsync(ProfilePath);
        Assert.Equal(-1, file.AsSpan().IndexOf(server.RingPedersen.Parameters.N.ToByteArrayUnsigned()));
    }

    [Fact]
    public async Task A_profile_from_another_device_is_refused_naming_both_devices()
    {
        await Store("device-test-other").SaveAsync(SharedProfile("device-test-other"), CancellationToken.None);

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => Store().LoadAsync(CancellationToken.None));

        Assert.Equal(MpcErrorReason.OtherDevice, refused.Reason);
        Assert.Contains("device-test-other", refused.Message);
        Assert.Contains(Device, refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public async Task A_profile_with_one_byte_flipped_is_refused_wherever_the_byte_is()
    {
        await Store().SaveAsync(SharedProfile(), CancellationToken.None);
        byte[] original = await File.ReadAllBytesAsync(ProfilePath);
        // A byte of the format name, of the device id, of the KDF header, and of the ciphertext.
        foreach (int index in new[] { 6, 40, original.Length / 2, original.Length - 1 })
        {
            byte[] tampered = (byte[])original.Clone();
            tampered[index] ^= 0x01;
            await File.WriteAllBytesAsync(ProfilePath, tampered);

            MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => Store().LoadAsync(CancellationToken.None));

            Assert.DoesNotContain('\n', refused.Message);
            Assert.StartsWith(ProfilePath, refused.Message);
        }
        await File.WriteAllBytesAsync(ProfilePath, original);
        using DeviceProfile? intact = await Store().LoadAsync(CancellationToken.None);
        Assert.NotNull(intact);
    }

    [Fact]
    public async Task A_wrong_passphrase_is_refused()
    {
        await Store().SaveAsync(SharedProfile(), CancellationToken.None);

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => Store(passphrase: "not the passphrase").LoadAsync(CancellationToken.None));

        Assert.Equal(MpcErrorReason.WrongPassphrase, refused.Reason);
    }

    [Fact]
    public void Parameters_whose_s_is_not_t_to_the_lambda_are_refused_on_import()
    {
        byte[] secret = SharedProfile().ExportSecret();
        // The last byte belongs to λ: a changed λ no longer gives s = t^λ.
        secret[^1] ^= 0x02;

        MpcSignerException refused = Assert.Throws<MpcSignerException>(() => DeviceProfile.ImportSecret(secret, Device));

        Assert.Equal(MpcErrorReason.CorruptInput, refused.Reason);
        Assert.Contains("t^λ", refused.Message);
    }

    [Fact]
    public async Task Two_clients_of_one_device_create_the_profile_once_and_both_use_it()
    {
        var store = new CountingStore(Store());
        List<MpcOperationTimings> timings = [];
        MpcSignerClientOptions Options() => new() { DeviceProfileStore = store, Timings = t => { lock (timings) { timings.Add(t); } } };
        using (var first = new MpcSignerClient(server.Address, server.Token("profile-user"), Options()))
        using (MpcKey key = await first.CreateKeyAsync(CurveKind.P256))
        {
            Assert.NotNull(key.KeyId);
        }
        using (var second = new MpcSignerClient(server.Address, server.Token("profile-user"), Options()))
        using (MpcKey key = await second.CreateKeyAsync(CurveKind.P256))
        using (MpcKey refreshed = await second.RefreshKeyAsync(key))
        {
            Assert.Equal(key.PublicKeyPem, refreshed.PublicKeyPem);
        }

        Assert.Equal(1, store.Saves);
        Assert.Equal(2, store.Loads);
        Assert.Equal(store.Saved!.RingPedersen.Parameters, store.LastLoaded!.RingPedersen.Parameters);
        Assert.Equal([DeviceProfileSource.Created, DeviceProfileSource.Loaded, DeviceProfileSource.Cached], timings.Select(t => t.DeviceProfile));
        Assert.Equal(["keygen", "keygen", "refresh"], timings.Select(t => t.Operation));
        Assert.All(timings, t => Assert.True(t.Total >= t.Server + t.Verification && t.RoundTrips >= 2));
    }

    [Fact]
    public async Task Clients_sharing_an_in_memory_store_make_the_profile_once_and_outlive_the_client_that_made_it()
    {
        using var store = new InMemoryDeviceProfileStore(Device);
        MpcSignerClientOptions Options() => new() { DeviceProfileStore = store };
        using (var first = new MpcSignerClient(server.Address, server.Token("profile-user"), Options()))
        {
            Assert.Equal(DeviceProfileSource.Created, await first.PrepareDeviceProfileAsync());
        }
        DeviceProfile? kept = await store.LoadAsync(CancellationToken.None);

        // The creator disposed its own instance with itself; the store's copy still works for the next client.
        using var second = new MpcSignerClient(server.Address, server.Token("profile-user"), Options());
        Assert.Equal(DeviceProfileSource.Loaded, await second.PrepareDeviceProfileAsync());
        using MpcKey key = await second.CreateKeyAsync(CurveKind.P256);

        Assert.NotNull(kept);
        Assert.Equal(Device, kept.DeviceId);
        Assert.NotEqual(server.RingPedersen.Parameters, kept.RingPedersen.Parameters);
        Assert.True(key.Share.CanSign);
    }

    [Fact]
    public async Task An_in_memory_store_refuses_another_devices_profile()
    {
        using var store = new InMemoryDeviceProfileStore(Device);

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => store.SaveAsync(SharedProfile("device-test-other"), CancellationToken.None));

        Assert.Equal(MpcErrorReason.OtherDevice, refused.Reason);
        Assert.Null(await store.LoadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Regenerating_through_the_client_replaces_a_refused_profile()
    {
        await Store("device-test-other").SaveAsync(SharedProfile("device-test-other"), CancellationToken.None);
        using var client = new MpcSignerClient(server.Address, server.Token("profile-user"), new MpcSignerClientOptions { DeviceProfileStore = Store() });
        await Assert.ThrowsAsync<MpcSignerException>(() => client.PrepareDeviceProfileAsync());

        string fingerprint = await client.RegenerateDeviceProfileAsync();

        using DeviceProfile? replaced = await Store().LoadAsync(CancellationToken.None);
        Assert.Equal(fingerprint, replaced!.Fingerprint);
        Assert.NotEqual(server.RingPedersen.Parameters, replaced.RingPedersen.Parameters);
        Assert.Equal(DeviceProfileSource.Cached, await client.PrepareDeviceProfileAsync());
    }

    private sealed class CountingStore(IDeviceProfileStore inner) : IDeviceProfileStore
    {
        public int Loads;
        public int Saves;
        public DeviceProfile? Saved;
        public DeviceProfile? LastLoaded;

        public string DeviceId => inner.DeviceId;

        public async Task<DeviceProfile?> LoadAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Loads);
            DeviceProfile? loaded = await inner.LoadAsync(cancellationToken);
            LastLoaded = loaded ?? LastLoaded;
            return loaded;
        }

        public async Task SaveAsync(DeviceProfile profile, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Saves);
            Saved = profile;
            await inner.SaveAsync(profile, cancellationToken);
        }
    }
}
