using System.Text;
using Mpc.Client.DeviceProfiles;
using Mpc.Client.KeyStore;
using Mpc.Protocol.Keys;

namespace Mpc.Client.Tests.KeyStore;

/// <summary>
/// The files the client reads from its own disk, damaged on purpose and by mutation (<see cref="Mutations"/>): key files
/// and device profiles are refused with <see cref="MpcSignerException"/> in one line, or load exactly what was saved;
/// reading never changes the file.
/// </summary>
public sealed class LocalFileFuzzTests(KeyStoreFixture fixture) : IClassFixture<KeyStoreFixture>, IDisposable
{
    private const string UserId = "alice@example.com";
    private const string Passphrase = "key file passphrase";
    private const string Device = "device-fuzz";

    private readonly TempDirectory _directory = new("mpc-file-fuzz-");

    public void Dispose() => _directory.Dispose();

    private static bool Documented(Exception e) => e is MpcSignerException { Message: var m } && !m.Contains('\n', StringComparison.Ordinal);

    private byte[] SavedKeyFile(KeyFileProtection protection)
    {
        string path = _directory.File($"saved-{Guid.NewGuid():N}.json");
        ClientKeyFile.Save(path, fixture.Share, UserId, protection, KeyStoreFixture.Cheap);
        return File.ReadAllBytes(path);
    }

    [Theory]
    [InlineData("userId")]
    [InlineData("format")]
    [InlineData("keyId")]
    [InlineData("publicKeyPem")]
    public void A_key_file_that_is_not_valid_UTF8_is_corrupt(string field)
    {
        byte[] file = SavedKeyFile(KeyFileProtection.Passphrase(Passphrase));
        // The first byte of the field's string value becomes 0xFF, which no UTF-8 text contains.
        int name = file.AsSpan().IndexOf(Encoding.UTF8.GetBytes($"\"{field}\""));
        Assert.True(name >= 0);
        int value = name + file.AsSpan(name + field.Length + 2).IndexOf((byte)'"') + field.Length + 3;
        file[value] = 0xFF;
        string path = _directory.File("bad-utf8.json");
        File.WriteAllBytes(path, file);

        AssertLoadAndPeekSayCorrupt(path);
    }

    [Theory]
    [InlineData("userId")]
    [InlineData("format")]
    [InlineData("keyId")]
    public void A_key_file_string_with_an_escaped_lone_surrogate_is_corrupt(string field)
    {
        string json = Encoding.UTF8.GetString(SavedKeyFile(KeyFileProtection.Passphrase(Passphrase)));
        int name = json.IndexOf($"\"{field}\"", StringComparison.Ordinal);
        int value = json.IndexOf('"', name + field.Length + 2) + 1;
        string path = _directory.File("lone-surrogate.json");
        File.WriteAllText(path, json.Insert(value, "\\uDC00"));

        AssertLoadAndPeekSayCorrupt(path);
    }

    /// <summary>Both ways of reading a key file (opening it, and peeking at its public header) refuse it in one line.</summary>
    private void AssertLoadAndPeekSayCorrupt(string path)
    {
        MpcSignerException load = Assert.Throws<MpcSignerException>(
            () => ClientKeyFile.Load(path, KeyFileProtection.Passphrase(Passphrase), fixture.Backend, out _, KeyStoreFixture.Cheap));
        MpcSignerException peek = Assert.Throws<MpcSignerException>(() => ClientKeyFile.ReadPublicInfo(path));
        foreach (MpcSignerException e in new[] { load, peek })
        {
            Assert.Equal(MpcErrorReason.KeyFileCorrupt, e.Reason);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Theory]
    [InlineData(0x80000000u)]
    [InlineData(0xFFFFFFFFu)]
    public void A_share_secret_with_a_curve_number_beyond_int_is_corrupt_input(uint curve)
    {
        byte[] secret = fixture.Share.ExportSecret();
        // Version (4 + 4 bytes), key id (4 + its length), then the curve field's length and value.
        int at = 8 + 4 + Encoding.UTF8.GetByteCount(fixture.Share.KeyId) + 4;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(secret.AsSpan(at), curve);

        MpcSignerException e = Assert.Throws<MpcSignerException>(() => ClientShareSecret.Import(secret));
        Assert.Equal(MpcErrorReason.CorruptInput, e.Reason);
        Assert.Contains("not supported", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mutated_key_files_are_refused_or_load_the_saved_share_and_stay_as_they_were()
    {
        byte[] protectedFile = SavedKeyFile(KeyFileProtection.Passphrase(Passphrase));
        byte[] clearFile = SavedKeyFile(KeyFileProtection.Unprotected());
        string path = _directory.File("mutant.json");
        var mutations = new Mutations("client key files");
        foreach ((string name, Mutant mutant) in mutations.Of([("protected", protectedFile), ("unprotected", clearFile)], Mutations.Iterations(150) * 2))
        {
            File.WriteAllBytes(path, mutant.Bytes);
            KeyFileProtection protection = name == "protected" ? KeyFileProtection.Passphrase(Passphrase) : KeyFileProtection.Unprotected();
            mutations.Check(mutant, bytes =>
            {
                KeyFileInfo peeked = ClientKeyFile.ReadPublicInfo(path);
                using ClientKeyShare loaded = ClientKeyFile.Load(path, protection, fixture.Backend, out KeyFileInfo info, KeyStoreFixture.Cheap);
                Assert.Equal(peeked.KeyId, info.KeyId);
                Assert.Equal(peeked.PublicKeyPem, info.PublicKeyPem);
                if (name == "protected")
                {
                    // AES-GCM covers the share and the clear fields: a protected file loads as saved or not at all.
                    fixture.AssertSameShare(loaded);
                    Assert.Equal(UserId, info.UserId);
                }
                else
                {
                    // A clear file has no integrity, but what loads must agree with its own header.
                    Assert.Equal(info.KeyId, loaded.KeyId);
                    Assert.Equal(info.Curve, loaded.Curve);
                }
            }, Documented, name);
            Assert.Equal(mutant.Bytes, File.ReadAllBytes(path));
        }
    }

    [Fact]
    public async Task Mutated_device_profiles_are_refused_or_load_the_saved_profile_and_stay_as_they_were()
    {
        string path = _directory.File("mpc-device.profile");
        DeviceProfileFile Store() => new(path, Device, KeyFileProtection.Passphrase(Passphrase), fixture.Backend, KeyStoreFixture.Cheap);
        DateTimeOffset created = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await Store().SaveAsync(DeviceProfile.From(Device, fixture.RingPedersen, created), CancellationToken.None);
        byte[] original = await File.ReadAllBytesAsync(path);
        var mutations = new Mutations("device profile");
        // Each load that gets past the framing checks the ring-Pedersen parameters (big-number work): fewer than the others.
        foreach (Mutant mutant in mutations.Of(original, Mutations.Iterations(60)))
        {
            await File.WriteAllBytesAsync(path, mutant.Bytes);
            await mutations.CheckAsync(mutant, async _ =>
            {
                (string device, DateTimeOffset at) = DeviceProfileFile.ReadHeader(path);
                using DeviceProfile? loaded = await Store().LoadAsync(CancellationToken.None);
                Assert.NotNull(loaded);
                Assert.Equal((Device, created), (device, at));
                Assert.Equal(fixture.RingPedersen.Parameters, loaded.RingPedersen.Parameters);
            }, Documented);
            Assert.Equal(mutant.Bytes, await File.ReadAllBytesAsync(path));
        }
    }
}
