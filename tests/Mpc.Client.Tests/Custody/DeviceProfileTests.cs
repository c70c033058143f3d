using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Client.DeviceProfiles;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Proofs;
using Mpc.Client.Tests.KeyStore;

namespace Mpc.Client.Tests.Custody;

/// <summary>
/// The device profile in the SDK: the sealed file round trip, the refusals (another device, a flipped byte, another
/// passphrase, clear parameters that are not the sealed ones), version 1 files, the peek at the clear parameters, and two client instances (two CLI runs) sharing one profile through the store: saved once, loaded after.
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
        byte[] file = await File.ReadAllBytesAsync(ProfilePath);
        Assert.Equal(2u, FileVersion(file));
        // The public N̂ is in the clear header (version 2); nothing of the trapdoor is in the file in clear.
        Assert.True(file.AsSpan().IndexOf(server.RingPedersen.Parameters.N.ToByteArrayUnsigned()) > 0);
        foreach (Org.BouncyCastle.Math.BigInteger secret in new[] { server.RingPedersen.P, server.RingPedersen.Q, server.RingPedersen.Lambda })
        {
            Assert.Equal(-1, file.AsSpan().IndexOf(secret.ToByteArrayUnsigned()));
        }
        Assert.Equal((Device, saved.CreatedAt), DeviceProfileFile.ReadHeader(ProfilePath));
    }

    [Fact]
    public async Task The_peek_gives_the_saved_parameters_without_the_passphrase()
    {
        await Store().SaveAsync(SharedProfile(), CancellationToken.None);
        DeviceProfileFile wrongPassphrase = Store(passphrase: "not the passphrase");

        RingPedersenParameters? peeked = await Peek(wrongPassphrase);

        Assert.Equal(server.RingPedersen.Parameters, peeked);
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => wrongPassphrase.LoadAsync(CancellationToken.None));
        Assert.Equal(MpcErrorReason.WrongPassphrase, refused.Reason);
    }

    [Fact]
    public async Task The_peek_is_null_without_a_file_or_for_another_devices_profile()
    {
        Assert.Null(await Peek(Store()));
        Assert.Null(await Peek(new DeviceProfileFile(Path.Combine(_directory.Path, "missing", "mpc-device.profile"), Device,
            KeyFileProtection.Passphrase("profile passphrase"), null, KeyStoreFixture.Cheap)));

        await Store("device-test-other").SaveAsync(SharedProfile("device-test-other"), CancellationToken.None);

        Assert.Null(await Peek(Store()));
        Assert.Equal(server.RingPedersen.Parameters, await Peek(Store("device-test-other")));
    }

    /// <summary>
    /// Exactly what the version 1 DeviceProfileFile.SaveAsync wrote: the same envelope and payload, header without the
    /// parameters. The payload is unchanged by version 2 (DeviceProfile.SecretVersion), so ExportSecret is its v1 form.
    /// </summary>
    private async Task<DeviceProfile> WriteVersion1()
    {
        DeviceProfile profile = SharedProfile();
        byte[] secret = profile.ExportSecret();
        byte[] v1 = PassphraseEnvelope.Seal(DeviceProfile.Format, 1, writer => writer.WriteString(Device).WriteTime(profile.CreatedAt),
            secret, "profile passphrase", KeyStoreFixture.Cheap.Kdf);
        await File.WriteAllBytesAsync(ProfilePath, v1);
        return profile;
    }

    [Fact]
    public async Task A_version_1_profile_opened_through_a_commands_derived_keys_is_resealed_as_version_2_without_a_second_argon2id()
    {
        DeviceProfile profile = await WriteVersion1();
        using var derivedKeys = new PassphraseKeyCache();
        var store = new DeviceProfileFile(ProfilePath, Device, KeyFileProtection.Passphrase("profile passphrase").WithDerivedKeys(derivedKeys), null, KeyStoreFixture.Cheap);

        using (DeviceProfile? loaded = await store.LoadAsync(CancellationToken.None))
        {
            Assert.Equal(server.RingPedersen.Parameters, loaded!.RingPedersen.Parameters);
        }

        Assert.Equal(2u, FileVersion(await File.ReadAllBytesAsync(ProfilePath)));
        Assert.Equal(1, derivedKeys.Derivations);
        Assert.Equal(server.RingPedersen.Parameters, await Peek(Store()));
        using DeviceProfile? again = await Store().LoadAsync(CancellationToken.None);
        Assert.Equal(profile.CreatedAt, again!.CreatedAt);
    }

    [Fact]
    public async Task A_version_1_profile_still_loads_and_peeks_null()
    {
        DeviceProfile profile = await WriteVersion1();

        using DeviceProfile? loaded = await Store().LoadAsync(CancellationToken.None);

        Assert.NotNull(loaded);
        Assert.Equal(server.RingPedersen.Parameters, loaded.RingPedersen.Parameters);
        Assert.Equal(profile.CreatedAt, loaded.CreatedAt);
        Assert.Null(await Peek(Store()));
        Assert.Equal((Device, profile.CreatedAt), DeviceProfileFile.ReadHeader(ProfilePath));
        // Saving again writes version 2, which the peek then reads.
        await Store().SaveAsync(loaded, CancellationToken.None);
        Assert.Equal(2u, FileVersion(await File.ReadAllBytesAsync(ProfilePath)));
        Assert.Equal(server.RingPedersen.Parameters, await Peek(Store()));
    }

    [Fact]
    public async Task Editing_the_clear_parameters_makes_the_profile_refused_as_modified()
    {
        await Store().SaveAsync(SharedProfile(), CancellationToken.None);
        byte[] file = await File.ReadAllBytesAsync(ProfilePath);
        int n = file.AsSpan().IndexOf(server.RingPedersen.Parameters.N.ToByteArrayUnsigned());
        Assert.True(n > 0);
        // A middle byte of N̂ in the header: still the shape of a modulus, but the associated data changed.
        file[n + 100] ^= 0x01;
        await File.WriteAllBytesAsync(ProfilePath, file);

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => Store().LoadAsync(CancellationToken.None));

        Assert.Equal(MpcErrorReason.WrongPassphrase, refused.Reason);
        Assert.StartsWith(ProfilePath, refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
        // The peek is unauthenticated: whatever it shows, it is not the saved parameters.
        Assert.NotEqual(server.RingPedersen.Parameters, await Peek(Store()));
    }

    [Fact]
    public async Task A_profile_whose_clear_parameters_are_not_its_sealed_ones_is_refused_as_corrupt()
    {
        DeviceProfile profile = SharedProfile();
        RingPedersenParameters real = server.RingPedersen.Parameters;
        // A consistent envelope (header authenticated) around a header that names other parameters than the payload:
        // what a writer with a bug, or anyone holding the passphrase, could make. s and t swapped keep the public shape.
        var other = new RingPedersenParameters(real.N, real.T, real.S);
        byte[] secret = profile.ExportSecret();
        byte[] mismatched = PassphraseEnvelope.Seal(DeviceProfile.Format, DeviceProfile.Version, writer =>
        {
            writer.WriteString(Device).WriteTime(profile.CreatedAt);
            other.WriteTo(writer);
        }, secret, "profile passphrase", KeyStoreFixture.Cheap.Kdf);
        await File.WriteAllBytesAsync(ProfilePath, mismatched);

        Assert.Equal(other, await Peek(Store()));
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => Store().LoadAsync(CancellationToken.None));

        Assert.Equal(MpcErrorReason.CorruptInput, refused.Reason);
        Assert.Contains("clear parameters are not the sealed ones", refused.Message);
        Assert.StartsWith(ProfilePath, refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public async Task A_file_that_is_not_a_profile_peeks_null_and_is_refused_on_load()
    {
        await File.WriteAllBytesAsync(ProfilePath, [0, 0, 0, 3, 1, 2, 3]);

        Assert.Null(await Peek(Store()));
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => Store().LoadAsync(CancellationToken.None));
        Assert.Equal(MpcErrorReason.WrongKind, refused.Reason);
    }

    [Fact]
    public async Task An_in_memory_store_peeks_the_profile_it_holds()
    {
        using var store = new InMemoryDeviceProfileStore(Device);
        Assert.Null(await Peek(store));

        await store.SaveAsync(SharedProfile(), CancellationToken.None);

        Assert.Equal(server.RingPedersen.Parameters, await Peek(store));
    }

    private static ValueTask<RingPedersenParameters?> Peek(IDeviceProfilePeek store) => store.PeekParametersAsync(CancellationToken.None);

    private static uint FileVersion(byte[] file)
    {
        var reader = new WireReader(file);
        Assert.Equal(DeviceProfile.Format, reader.ReadString("format"));
        return reader.ReadUInt32("version");
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
        int parameters = original.AsSpan().IndexOf(server.RingPedersen.Parameters.N.ToByteArrayUnsigned());
        int kdf = original.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(PassphraseEnvelope.Protection));
        Assert.True(parameters > 0 && kdf > parameters);
        // A byte of the format name, of the device id, of the header's parameters, of the KDF header, and of the ciphertext.
        foreach (int index in new[] { 6, 40, parameters + 7, kdf + 2, original.Length - 1 })
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
