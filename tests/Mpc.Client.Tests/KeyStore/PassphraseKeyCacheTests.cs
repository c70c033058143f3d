using System.Text.Json.Nodes;
using Mpc.Client.DeviceProfiles;
using Mpc.Client.KeyStore;
using Mpc.Protocol.Keys;

namespace Mpc.Client.Tests.KeyStore;

/// <summary>
/// One Argon2id per command: a key file written after the device profile is sealed under the profile's derivation
/// and opens without a second one; files with their own salt still open with their own; a wrong passphrase and a
/// tampered file are refused exactly as without the cache. Derivations are counted through
/// <see cref="PassphraseKeyCache.Derivations"/>, never timed.
/// </summary>
public sealed class PassphraseKeyCacheTests(KeyStoreFixture fixture) : IClassFixture<KeyStoreFixture>, IDisposable
{
    private const string UserId = "alice@example.com";
    private const string Passphrase = "correct horse battery staple";
    private const string Device = "device-cache-test";

    private readonly TempDirectory _dir = new();
    private readonly KeyFileOptions _cheap = KeyStoreFixture.Cheap;

    public void Dispose() => _dir.Dispose();

    private string ProfilePath => _dir.File("mpc-device.profile");

    private static KeyFileProtection Protection(PassphraseKeyCache? cache, string passphrase = Passphrase) =>
        cache is null ? KeyFileProtection.Passphrase(passphrase) : KeyFileProtection.Passphrase(passphrase).WithDerivedKeys(cache);

    private DeviceProfileFile ProfileStore(KeyFileProtection protection) => new(ProfilePath, Device, protection, fixture.Backend, _cheap);

    /// <summary>The fixture owns the parameters: the profile is not disposed here.</summary>
    private DeviceProfile Profile() => DeviceProfile.From(Device, fixture.RingPedersen, DateTimeOffset.UtcNow);

    private ClientKeyShare Load(string path, KeyFileProtection protection) =>
        ClientKeyFile.Load(path, protection, fixture.Backend, out _, _cheap);

    private static (string Salt, string Nonce) SaltAndNonce(string keyFile)
    {
        JsonObject root = JsonNode.Parse(File.ReadAllText(keyFile))!.AsObject();
        return ((string)root["kdf"]!["salt"]!, (string)root["nonce"]!);
    }

    [Fact]
    public async Task A_key_file_written_after_the_profile_is_sealed_under_its_derivation_and_opens_with_one_Argon2id()
    {
        using (var writing = new PassphraseKeyCache())
        {
            await ProfileStore(Protection(writing)).SaveAsync(Profile(), CancellationToken.None);
            Assert.Equal(1, writing.Derivations);
            ClientKeyFile.Save(_dir.File("a.key"), fixture.Share, UserId, Protection(writing), _cheap);
            ClientKeyFile.Save(_dir.File("b.key"), fixture.Share, UserId, Protection(writing), _cheap);
            Assert.Equal(1, writing.Derivations);
        }
        // Same salt as the profile (its raw bytes are in the profile's KDF header), each file its own nonce.
        (string saltA, string nonceA) = SaltAndNonce(_dir.File("a.key"));
        (string saltB, string nonceB) = SaltAndNonce(_dir.File("b.key"));
        Assert.Equal(saltA, saltB);
        Assert.NotEqual(nonceA, nonceB);
        Assert.True(File.ReadAllBytes(ProfilePath).AsSpan().IndexOf(Convert.FromBase64String(saltA)) >= 0);

        // The next command: the profile, then the key file, for one derivation.
        using var reading = new PassphraseKeyCache();
        using DeviceProfile? loaded = await ProfileStore(Protection(reading)).LoadAsync(CancellationToken.None);
        Assert.NotNull(loaded);
        using ClientKeyShare share = Load(_dir.File("a.key"), Protection(reading));
        fixture.AssertSameShare(share);
        Assert.Equal(1, reading.Derivations);

        // Without a cache the same file still opens (the format is unchanged).
        using ClientKeyShare plain = Load(_dir.File("b.key"), Protection(null));
        fixture.AssertSameShare(plain);
    }

    [Fact]
    public async Task A_key_file_with_its_own_salt_opens_with_its_own_derivation()
    {
        string older = _dir.File("older.key");
        ClientKeyFile.Save(older, fixture.Share, UserId, Protection(null), _cheap);
        await ProfileStore(Protection(null)).SaveAsync(Profile(), CancellationToken.None);

        using var cache = new PassphraseKeyCache();
        using DeviceProfile? loaded = await ProfileStore(Protection(cache)).LoadAsync(CancellationToken.None);
        using ClientKeyShare share = Load(older, Protection(cache));

        fixture.AssertSameShare(share);
        Assert.Equal(2, cache.Derivations);
        // Re-saved through the cache (what a refresh does), it moves to the profile's salt: one derivation next time.
        ClientKeyFile.Save(older, share, UserId, Protection(cache), _cheap);
        Assert.Equal(2, cache.Derivations);
        using var next = new PassphraseKeyCache();
        using DeviceProfile? again = await ProfileStore(Protection(next)).LoadAsync(CancellationToken.None);
        using ClientKeyShare reopened = Load(older, Protection(next));
        Assert.Equal(1, next.Derivations);
    }

    [Fact]
    public void Files_saved_with_other_parameters_get_their_own_salt()
    {
        using var cache = new PassphraseKeyCache();
        ClientKeyFile.Save(_dir.File("cheap.key"), fixture.Share, UserId, Protection(cache), _cheap);
        Argon2idParameters stronger = Argon2idParameters.Unchecked(2, 1024, 1, 16);
        ClientKeyFile.Save(_dir.File("stronger.key"), fixture.Share, UserId, Protection(cache).WithKdf(stronger), _cheap);

        Assert.Equal(2, cache.Derivations);
        Assert.NotEqual(SaltAndNonce(_dir.File("cheap.key")).Salt, SaltAndNonce(_dir.File("stronger.key")).Salt);
        using ClientKeyShare share = Load(_dir.File("stronger.key"), Protection(null));
        fixture.AssertSameShare(share);
    }

    [Fact]
    public async Task A_wrong_passphrase_is_refused_with_the_same_one_line_error_as_without_the_cache()
    {
        string path = _dir.File("key.json");
        using (var writing = new PassphraseKeyCache())
        {
            await ProfileStore(Protection(writing)).SaveAsync(Profile(), CancellationToken.None);
            ClientKeyFile.Save(path, fixture.Share, UserId, Protection(writing), _cheap);
        }

        using var wrong = new PassphraseKeyCache();
        MpcSignerException profileRefused = await Assert.ThrowsAsync<MpcSignerException>(
            () => ProfileStore(Protection(wrong, "not the passphrase")).LoadAsync(CancellationToken.None));
        MpcSignerException cached = Assert.Throws<MpcSignerException>(() => Load(path, Protection(wrong, "not the passphrase")).Dispose());
        MpcSignerException plain = Assert.Throws<MpcSignerException>(() => Load(path, Protection(null, "not the passphrase")).Dispose());

        Assert.Equal(MpcErrorReason.WrongPassphrase, profileRefused.Reason);
        Assert.Equal(MpcErrorReason.WrongPassphrase, cached.Reason);
        Assert.Equal(plain.Message, cached.Message);
        Assert.DoesNotContain('\n', cached.Message);
    }

    [Fact]
    public async Task A_tampered_key_file_is_refused_even_when_its_key_is_already_derived()
    {
        using var cache = new PassphraseKeyCache();
        await ProfileStore(Protection(cache)).SaveAsync(Profile(), CancellationToken.None);
        string path = _dir.File("key.json");
        ClientKeyFile.Save(path, fixture.Share, UserId, Protection(cache), _cheap);
        JsonObject root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        byte[] ciphertext = Convert.FromBase64String((string)root["ciphertext"]!);
        ciphertext[3] ^= 0x01;
        root["ciphertext"] = Convert.ToBase64String(ciphertext);
        File.WriteAllText(path, root.ToJsonString());

        MpcSignerException refused = Assert.Throws<MpcSignerException>(() => Load(path, Protection(cache)).Dispose());

        Assert.Equal(MpcErrorReason.WrongPassphrase, refused.Reason);
        Assert.Equal(1, cache.Derivations);
    }

    [Fact]
    public void A_cache_serves_one_passphrase_and_is_unusable_after_dispose()
    {
        var cache = new PassphraseKeyCache();
        _ = Protection(cache);
        Assert.Throws<InvalidOperationException>(() => Protection(cache, "another passphrase"));
        ClientKeyFile.Save(_dir.File("key.json"), fixture.Share, UserId, Protection(cache), _cheap);

        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => Load(_dir.File("key.json"), Protection(null).WithDerivedKeys(cache)).Dispose());
        Assert.DoesNotContain(Passphrase, cache.ToString());
    }
}
