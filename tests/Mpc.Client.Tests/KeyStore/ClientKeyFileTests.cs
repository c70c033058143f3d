using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;
using Xunit.Abstractions;
using Mpc.Client;

namespace Mpc.Client.Tests.KeyStore;

public sealed class ClientKeyFileTests(KeyStoreFixture fixture, ITestOutputHelper output) : IClassFixture<KeyStoreFixture>, IDisposable
{
    private const string UserId = "alice@example.com";
    private const string Secret = "correct horse battery staple";

    private readonly TempDirectory _dir = new();
    private readonly KeyFileOptions _cheap = KeyStoreFixture.Cheap;

    private ClientKeyShare Share => fixture.Share;

    public void Dispose() => _dir.Dispose();

    private string SaveProtected(string name = "key.json", string passphrase = Secret)
    {
        string path = _dir.File(name);
        ClientKeyFile.Save(path, Share, UserId, KeyFileProtection.Passphrase(passphrase), _cheap);
        return path;
    }

    private string SaveUnprotected(string name = "key.json")
    {
        string path = _dir.File(name);
        ClientKeyFile.Save(path, Share, UserId, KeyFileProtection.Unprotected(), _cheap);
        return path;
    }

    private ClientKeyShare Load(string path, KeyFileProtection protection, KeyFileOptions? options = null) =>
        ClientKeyFile.Load(path, protection, fixture.Backend, out _, options ?? _cheap);

    private MpcSignerException Refused(string path, KeyFileProtection protection, KeyFileOptions? options = null) =>
        Assert.Throws<MpcSignerException>(() => Load(path, protection, options).Dispose());

    private static void Edit(string path, Action<JsonObject> edit)
    {
        JsonObject root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(root);
        File.WriteAllText(path, root.ToJsonString());
    }

    private string ExpectedPem => PublicKeyEncoding.ToPem(EcCurve.Get(Share.Curve), Share.PublicKey);

    private string ExpectedShareId => Convert.ToHexStringLower(Share.ShareId);

    /// <summary>A well-formed share id that is not this share's.</summary>
    private string OtherShareId => (ExpectedShareId[0] == '0' ? "1" : "0") + ExpectedShareId[1..];

    /// <summary>
    /// A copy of a version 1 file from TestData. They were written by ClientKeyFile.Save as of commit 254b1de (the last
    /// version 1 writer), with this class's passphrase, user and cheap Argon2id, for a throwaway in-process key of
    /// device "primary": real old files, not rebuilt by today's code, so they pin the version 1 associated data.
    /// </summary>
    private string CopyVersion1(string name)
    {
        string path = _dir.File(name);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "KeyStore", "TestData", name), path);
        return path;
    }

    private static KeyFileProtection ProtectionOf(string name) =>
        name.Contains("unprotected", StringComparison.Ordinal) ? KeyFileProtection.Unprotected() : KeyFileProtection.Passphrase(Secret);

    public static TheoryData<string> Version1Files => new() { "v1-protected.json", "v1-unprotected.json" };

    /// <summary>A valid public key on the same curve that is not this share's.</summary>
    private string OtherPem()
    {
        EcCurve curve = EcCurve.Get(Share.Curve);
        return PublicKeyEncoding.ToPem(curve, curve.MultiplyBase(curve.RandomScalar()));
    }

    // ---- round trips ----

    [Fact]
    public void Protected_round_trip_restores_an_identical_share()
    {
        string path = SaveProtected();
        using ClientKeyShare loaded = ClientKeyFile.Load(path, KeyFileProtection.Passphrase(Secret), fixture.Backend, out KeyFileInfo info, _cheap);
        fixture.AssertSameShare(loaded);
        Assert.Equal(Share.KeyId, info.KeyId);
        Assert.Equal(UserId, info.UserId);
        Assert.Equal(Share.Curve, info.Curve);
        Assert.Equal(ExpectedPem, info.PublicKeyPem);
        Assert.True(info.IsProtected);
        Assert.Equal(_cheap.Kdf, info.Kdf);
        Assert.Equal(Share.DeviceId, info.DeviceId);
        Assert.Equal(ExpectedShareId, info.ShareId);
    }

    [Fact]
    public void Unprotected_round_trip_restores_an_identical_share_and_says_so_in_clear()
    {
        string path = SaveUnprotected();
        using ClientKeyShare loaded = ClientKeyFile.Load(path, KeyFileProtection.Unprotected(), fixture.Backend, out KeyFileInfo info, _cheap);
        fixture.AssertSameShare(loaded);
        Assert.False(info.IsProtected);
        Assert.Null(info.Kdf);
        Assert.Equal(Share.DeviceId, info.DeviceId);
        Assert.Equal(ExpectedShareId, info.ShareId);
        JsonObject root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.Equal("none", (string?)root["protection"]);
        Assert.Null(root["kdf"]);
        Assert.Null(root["ciphertext"]);
    }

    [Fact]
    public void File_has_the_documented_layout()
    {
        string path = SaveProtected();
        JsonObject root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.Equal("mpc-signer/client-key", (string?)root["format"]);
        Assert.Equal(2, (int?)root["version"]);
        Assert.Equal(Share.KeyId, (string?)root["keyId"]);
        Assert.Equal(UserId, (string?)root["userId"]);
        Assert.Equal("secp256k1", (string?)root["curve"]);
        Assert.Equal(ExpectedPem, (string?)root["publicKeyPem"]);
        Assert.Equal(Share.DeviceId, (string?)root["deviceId"]);
        Assert.Equal(ExpectedShareId, (string?)root["shareId"]);
        Assert.Equal(["format", "version", "keyId", "userId", "curve", "publicKeyPem", "deviceId", "shareId", "protection", "kdf", "nonce", "ciphertext"],
            root.Select(field => field.Key));
        Assert.Equal("argon2id-aes256gcm", (string?)root["protection"]);
        Assert.Equal(1, (int?)root["kdf"]!["t"]);
        Assert.Equal(1024, (int?)root["kdf"]!["m"]);
        Assert.Equal(1, (int?)root["kdf"]!["p"]);
        Assert.Equal(16, Convert.FromBase64String((string)root["kdf"]!["salt"]!).Length);
        Assert.Equal(12, Convert.FromBase64String((string)root["nonce"]!).Length);
        Assert.NotNull(root["ciphertext"]);
        Assert.Null(root["share"]);
    }

    [Fact]
    public void Recommended_parameters_round_trip_through_the_public_api()
    {
        Assert.Equal(Argon2idParameters.Recommended, Argon2idParameters.Minimum);
        Assert.Equal((3, 65536, 4, 16), (Argon2idParameters.Recommended.Iterations, Argon2idParameters.Recommended.MemoryKiB,
            Argon2idParameters.Recommended.Parallelism, Argon2idParameters.Recommended.SaltLength));

        byte[] key = new byte[32];
        foreach (string run in new[] { "first (cold)", "second (warm)" })
        {
            var derivation = Stopwatch.StartNew();
            Argon2idParameters.Recommended.Derive(Encoding.UTF8.GetBytes(Secret), RandomNumberGenerator.GetBytes(16), key);
            derivation.Stop();
            output.WriteLine($"Argon2id derivation with {Argon2idParameters.Recommended}, {run}: {derivation.ElapsedMilliseconds} ms");
        }

        string path = _dir.File("recommended.json");
        var total = Stopwatch.StartNew();
        ClientKeyFile.Save(path, Share, UserId, KeyFileProtection.Passphrase(Secret));
        using ClientKeyShare loaded = ClientKeyFile.Load(path, KeyFileProtection.Passphrase(Secret), MpcArithmetic.From(fixture.Backend), out KeyFileInfo info);
        total.Stop();
        output.WriteLine($"Save + Load with recommended parameters: {total.ElapsedMilliseconds} ms");
        fixture.AssertSameShare(loaded);
        Assert.Equal(Argon2idParameters.Recommended, info.Kdf);
    }

    [Fact]
    public void Argon2id_matches_the_reference_implementation()
    {
        // phc-winner-argon2 src/test.c: "password", salt "somesalt", v=0x13, 32-byte output.
        byte[] password = Encoding.UTF8.GetBytes("password");
        byte[] salt = Encoding.UTF8.GetBytes("somesalt");
        byte[] key = new byte[32];
        Argon2idParameters.Unchecked(2, 256, 1, 8).Derive(password, salt, key);
        Assert.Equal("nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4=", Convert.ToBase64String(key));
        Argon2idParameters.Unchecked(2, 256, 2, 8).Derive(password, salt, key);
        Assert.Equal("bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc=", Convert.ToBase64String(key));
    }

    [Fact]
    public void Non_ascii_passphrase_is_used_byte_exact_without_normalisation()
    {
        string composed = "p\u00e2t\u00e9 secret";
        string decomposed = "pa\u0302te\u0301 secret";
        string path = SaveProtected(passphrase: composed);
        using ClientKeyShare loaded = Load(path, KeyFileProtection.Passphrase(composed));
        fixture.AssertSameShare(loaded);
        Assert.Equal(MpcErrorReason.WrongPassphrase, Refused(path, KeyFileProtection.Passphrase(decomposed)).Reason);
    }

    // ---- passphrase and tampering ----

    [Fact]
    public void Wrong_passphrase_is_refused()
    {
        string path = SaveProtected();
        MpcSignerException e = Refused(path, KeyFileProtection.Passphrase("Correct horse battery staple"));
        Assert.Equal(MpcErrorReason.WrongPassphrase, e.Reason);
        Assert.Contains("wrong passphrase or corrupted key file", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("horse", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    public static TheoryData<string> ClearFields => new() { "keyId", "userId", "curve", "publicKeyPem", "deviceId", "shareId" };

    private string Replacement(string field) => field switch
    {
        "keyId" => "0123456789abcdef0123456789abcdef",
        "userId" => "mallory@example.com",
        "curve" => "P-256",
        "deviceId" => "mallory-laptop",
        "shareId" => OtherShareId,
        _ => OtherPem(),
    };

    [Theory]
    [MemberData(nameof(ClearFields))]
    public void Protected_file_with_an_altered_clear_field_does_not_decrypt(string field)
    {
        string path = SaveProtected();
        string replacement = Replacement(field);
        // A secp256k1 PEM under "P-256" fails the form check before any decryption.
        if (field == "curve")
        {
            Edit(path, root => root["curve"] = replacement);
            Assert.Equal(MpcErrorReason.KeyFileCorrupt, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
            return;
        }
        Edit(path, root => root[field] = replacement);
        Assert.Equal(MpcErrorReason.WrongPassphrase, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
    }

    [Fact]
    public void Protected_file_moved_to_another_curve_with_a_matching_public_key_does_not_decrypt()
    {
        string path = SaveProtected();
        EcCurve p256 = EcCurve.Get(CurveKind.P256);
        string p256Pem = PublicKeyEncoding.ToPem(p256, p256.MultiplyBase(p256.RandomScalar()));
        Edit(path, root =>
        {
            root["curve"] = "P-256";
            root["publicKeyPem"] = p256Pem;
        });
        Assert.Equal(MpcErrorReason.WrongPassphrase, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
    }

    [Theory]
    [MemberData(nameof(ClearFields))]
    public void Unprotected_file_with_an_altered_clear_field_is_inconsistent(string field)
    {
        string path = SaveUnprotected();
        string replacement = Replacement(field);
        Edit(path, root => root[field] = replacement);
        if (field == "userId")
        {
            // The user id is not inside the share: an unprotected file cannot detect this edit. Protection can.
            using ClientKeyShare loaded = Load(path, KeyFileProtection.Unprotected());
            fixture.AssertSameShare(loaded);
            return;
        }
        MpcSignerException e = Refused(path, KeyFileProtection.Unprotected());
        Assert.Equal(field == "curve" ? MpcErrorReason.KeyFileCorrupt : MpcErrorReason.KeyFileInconsistent, e.Reason);
        if (field is "deviceId" or "shareId")
        {
            string name = field == "deviceId" ? "device id" : "share id";
            Assert.Equal($"key file is inconsistent: the share's {name} differs from the file's", e.Message);
        }
    }

    [Fact]
    public void Lowered_iterations_below_the_minimum_are_a_downgrade()
    {
        KeyFileOptions strict = KeyStoreFixture.CheapOptions(2);
        string path = _dir.File("key.json");
        ClientKeyFile.Save(path, Share, UserId, KeyFileProtection.Passphrase(Secret), strict);
        Edit(path, root => root["kdf"]!["t"] = 1);
        MpcSignerException e = Refused(path, KeyFileProtection.Passphrase(Secret), strict);
        Assert.Equal(MpcErrorReason.KdfDowngrade, e.Reason);
        Assert.Equal("key file uses weaker Argon2id parameters than this client accepts", e.Message);
    }

    [Theory]
    [InlineData("m", 512)]
    [InlineData("p", 0)]
    public void Lowered_memory_or_lanes_are_refused(string field, int value)
    {
        string path = SaveProtected();
        Edit(path, root => root["kdf"]![field] = value);
        // p=0 is structurally invalid (corrupt); m below the minimum is a downgrade.
        Assert.Equal(value == 0 ? MpcErrorReason.KeyFileCorrupt : MpcErrorReason.KdfDowngrade, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
    }

    [Theory]
    [InlineData("m", 1024 * 1024 + 8)]
    [InlineData("m", 4 * 1024 * 1024)]
    [InlineData("t", 17)]
    [InlineData("t", 64)]
    [InlineData("p", 17)]
    public void Costs_above_the_caps_are_refused_before_any_derivation(string field, int value)
    {
        // A planted file must not make the client allocate gigabytes before the passphrase is even checked.
        string path = SaveProtected();
        Edit(path, root => root["kdf"]![field] = value);
        MpcSignerException e = Refused(path, KeyFileProtection.Passphrase(Secret));
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, e.Reason);
        Assert.Contains("at most t=16, m=1024 MiB, p=16", e.Message);
    }

    [Fact]
    public void Shorter_salt_is_a_downgrade()
    {
        string path = SaveProtected();
        Edit(path, root => root["kdf"]!["salt"] = Convert.ToBase64String(new byte[8]));
        Assert.Equal(MpcErrorReason.KdfDowngrade, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
    }

    [Fact]
    public void Production_minimum_refuses_a_file_made_with_test_parameters()
    {
        string path = SaveProtected();
        MpcSignerException e = Assert.Throws<MpcSignerException>(() =>
            ClientKeyFile.Load(path, KeyFileProtection.Passphrase(Secret), MpcArithmetic.From(fixture.Backend)).Dispose());
        Assert.Equal(MpcErrorReason.KdfDowngrade, e.Reason);
    }

    [Fact]
    public void Raised_iterations_are_bound_by_the_associated_data()
    {
        string path = SaveProtected();
        Edit(path, root => root["kdf"]!["t"] = 2);
        Assert.Equal(MpcErrorReason.WrongPassphrase, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
    }

    [Theory]
    [InlineData("salt")]
    [InlineData("nonce")]
    [InlineData("ciphertext")]
    public void Changed_salt_nonce_or_ciphertext_does_not_decrypt(string field)
    {
        string path = SaveProtected();
        Edit(path, root =>
        {
            JsonObject holder = field == "salt" ? root["kdf"]!.AsObject() : root;
            byte[] bytes = Convert.FromBase64String((string)holder[field]!);
            bytes[0] ^= 0x01;
            holder[field] = Convert.ToBase64String(bytes);
        });
        Assert.Equal(MpcErrorReason.WrongPassphrase, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
    }

    // ---- malformed files ----

    [Fact]
    public void Truncated_file_is_corrupt()
    {
        string path = SaveProtected();
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        MpcSignerException e = Refused(path, KeyFileProtection.Passphrase(Secret));
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, e.Reason);
        Assert.Equal("key file is not valid JSON", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json at all")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"format\": \"something-else\", \"version\": 1}")]
    [InlineData("{\"format\": \"mpc-signer/client-key\"}")]
    [InlineData("{\"format\": \"mpc-signer/client-key\", \"version\": \"1\"}")]
    public void Not_a_key_file_is_corrupt(string text)
    {
        string path = _dir.File("junk.json");
        File.WriteAllText(path, text);
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, Assert.Throws<MpcSignerException>(() => ClientKeyFile.ReadPublicInfo(path)).Reason);
    }

    public static TheoryData<string> ProtectedFields => new()
    {
        "keyId", "userId", "curve", "publicKeyPem", "deviceId", "shareId", "protection", "kdf", "kdf.t", "kdf.m", "kdf.p", "kdf.salt", "nonce", "ciphertext",
    };

    [Theory]
    [MemberData(nameof(ProtectedFields))]
    public void Missing_field_is_corrupt(string field)
    {
        string path = SaveProtected();
        Edit(path, root =>
        {
            if (field.StartsWith("kdf.", StringComparison.Ordinal))
            {
                root["kdf"]!.AsObject().Remove(field[4..]);
            }
            else
            {
                root.Remove(field);
            }
        });
        MpcSignerException e = Refused(path, KeyFileProtection.Passphrase(Secret));
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, e.Reason);
    }

    [Fact]
    public void Unknown_field_is_corrupt()
    {
        string path = SaveProtected();
        Edit(path, root => root["comment"] = "hello");
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
    }

    [Fact]
    public void Duplicate_field_is_corrupt()
    {
        string path = SaveProtected();
        string text = File.ReadAllText(path);
        File.WriteAllText(path, text.Replace("\"userId\":", "\"userId\": \"mallory\", \"userId\":", StringComparison.Ordinal));
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
    }

    [Fact]
    public void Protected_file_carrying_a_clear_share_is_corrupt()
    {
        string path = SaveProtected();
        Edit(path, root => root["share"] = Convert.ToBase64String(new byte[4]));
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
    }

    [Fact]
    public void Newer_version_is_unsupported()
    {
        string path = SaveProtected();
        Edit(path, root =>
        {
            root["version"] = 3;
            root["newField"] = true;
        });
        MpcSignerException e = Refused(path, KeyFileProtection.Passphrase(Secret));
        Assert.Equal(MpcErrorReason.UnsupportedVersion, e.Reason);
        Assert.Equal("key file version 3 is not supported by this client (expected 1 or 2)", e.Message);
        Assert.Equal(MpcErrorReason.UnsupportedVersion, Assert.Throws<MpcSignerException>(() => ClientKeyFile.ReadPublicInfo(path)).Reason);
    }

    // ---- version 2: device id and share id in the clear; version 1 still read ----

    [Theory]
    [MemberData(nameof(Version1Files))]
    public void Version1_file_still_loads_and_names_no_device_or_share(string name)
    {
        string path = CopyVersion1(name);
        KeyFileInfo publicInfo = ClientKeyFile.ReadPublicInfo(path);
        using ClientKeyShare loaded = ClientKeyFile.Load(path, ProtectionOf(name), fixture.Backend, out KeyFileInfo info, _cheap);

        Assert.Equal(1, (int?)JsonNode.Parse(File.ReadAllText(path))!["version"]);
        Assert.Equal(publicInfo, info);
        Assert.Null(info.DeviceId);
        Assert.Null(info.ShareId);
        Assert.Equal(name == "v1-protected.json", info.IsProtected);
        Assert.Equal(UserId, info.UserId);
        Assert.Equal(loaded.KeyId, info.KeyId);
        Assert.Equal(PublicKeyEncoding.ToPem(EcCurve.Get(loaded.Curve), loaded.PublicKey), info.PublicKeyPem);
        Assert.Equal("primary", loaded.DeviceId);
    }

    [Fact]
    public void Version1_file_is_rewritten_as_version2_by_a_passphrase_change()
    {
        string path = CopyVersion1("v1-protected.json");
        KeyFileInfo saved = ClientKeyFile.ChangePassphrase(path, KeyFileProtection.Passphrase(Secret),
            KeyFileProtection.Passphrase("a new passphrase"), fixture.Backend, _cheap);
        using ClientKeyShare loaded = ClientKeyFile.Load(path, KeyFileProtection.Passphrase("a new passphrase"), fixture.Backend, out KeyFileInfo info, _cheap);

        JsonObject root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.Equal(2, (int?)root["version"]);
        Assert.Equal(loaded.DeviceId, (string?)root["deviceId"]);
        Assert.Equal(Convert.ToHexStringLower(loaded.ShareId), (string?)root["shareId"]);
        Assert.Equal(saved, info);
        Assert.Equal("primary", info.DeviceId);
        Assert.Equal(Convert.ToHexStringLower(loaded.ShareId), info.ShareId);
    }

    [Theory]
    [MemberData(nameof(Version1Files))]
    public void Version1_file_carrying_a_device_or_share_id_is_corrupt(string name)
    {
        foreach (string field in new[] { "deviceId", "shareId" })
        {
            string path = CopyVersion1(name);
            Edit(path, root => root[field] = field == "deviceId" ? "primary" : ExpectedShareId);
            MpcSignerException e = Refused(path, ProtectionOf(name));
            Assert.Equal(MpcErrorReason.KeyFileCorrupt, e.Reason);
            Assert.Equal("key file is corrupt: a version 1 file carries 'deviceId' or 'shareId'", e.Message);
            Assert.Equal(MpcErrorReason.KeyFileCorrupt, Assert.Throws<MpcSignerException>(() => ClientKeyFile.ReadPublicInfo(path)).Reason);
            File.Delete(path);
        }
    }

    [Fact]
    public void Protected_version1_file_relabelled_as_version2_does_not_decrypt()
    {
        // The right names added and the version raised: still refused, since the version is associated data.
        string path = CopyVersion1("v1-protected.json");
        string shareId;
        using (ClientKeyShare original = Load(path, KeyFileProtection.Passphrase(Secret)))
        {
            shareId = Convert.ToHexStringLower(original.ShareId);
        }
        Edit(path, root =>
        {
            root["version"] = 2;
            root["deviceId"] = "primary";
            root["shareId"] = shareId;
        });
        Assert.Equal(MpcErrorReason.WrongPassphrase, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Version2_file_without_a_share_id_is_corrupt(bool isProtected)
    {
        string path = isProtected ? SaveProtected() : SaveUnprotected();
        Edit(path, root => root.Remove("shareId"));
        MpcSignerException e = Refused(path, isProtected ? KeyFileProtection.Passphrase(Secret) : KeyFileProtection.Unprotected());
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, e.Reason);
        Assert.Equal("key file is corrupt: missing field 'shareId'", e.Message);
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, Assert.Throws<MpcSignerException>(() => ClientKeyFile.ReadPublicInfo(path)).Reason);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("long")]
    [InlineData("uppercase")]
    [InlineData("not hex")]
    [InlineData("empty")]
    [InlineData("number")]
    public void Malformed_share_id_is_corrupt_in_one_line(string kind)
    {
        string path = SaveUnprotected();
        string id = ExpectedShareId;
        JsonNode? malformed = kind switch
        {
            "short" => id[..30],
            "long" => id + "00",
            "uppercase" => id.Any(char.IsLetter) ? id.ToUpperInvariant() : "A" + id[1..],
            "not hex" => "g" + id[1..],
            "empty" => "",
            _ => 12345,
        };
        Edit(path, root => root["shareId"] = malformed);
        MpcSignerException e = Refused(path, KeyFileProtection.Unprotected());
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, e.Reason);
        Assert.DoesNotContain("\n", e.Message, StringComparison.Ordinal);
        if (kind != "number")
        {
            Assert.Equal("key file is corrupt: 'shareId' is not 32 lowercase hex characters", e.Message);
        }
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, Assert.Throws<MpcSignerException>(() => ClientKeyFile.ReadPublicInfo(path)).Reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("../primary")]
    public void Malformed_device_id_is_corrupt(string deviceId)
    {
        string path = SaveProtected();
        Edit(path, root => root["deviceId"] = deviceId);
        MpcSignerException e = Refused(path, KeyFileProtection.Passphrase(Secret));
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, e.Reason);
        Assert.Equal("key file is corrupt: 'deviceId' is not a valid device id", e.Message);
    }

    [Fact]
    public void Missing_file_is_not_found()
    {
        MpcSignerException e = Refused(_dir.File("absent.json"), KeyFileProtection.Passphrase(Secret));
        Assert.Equal(MpcErrorReason.KeyFileNotFound, e.Reason);
        Assert.Equal(MpcErrorReason.KeyFileNotFound, Assert.Throws<MpcSignerException>(() => ClientKeyFile.ReadPublicInfo(_dir.File("absent.json"))).Reason);
    }

    // ---- protection mismatch ----

    [Fact]
    public void Unprotected_file_loaded_with_a_passphrase_is_a_mismatch()
    {
        string path = SaveUnprotected();
        Assert.Equal(MpcErrorReason.KeyFileProtectionMismatch, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
    }

    [Fact]
    public void Protected_file_loaded_as_unprotected_is_a_mismatch()
    {
        string path = SaveProtected();
        Assert.Equal(MpcErrorReason.KeyFileProtectionMismatch, Refused(path, KeyFileProtection.Unprotected()).Reason);
    }

    [Fact]
    public void Protected_file_relabelled_as_unprotected_cannot_be_loaded()
    {
        string path = SaveProtected();
        string ciphertext = "";
        Edit(path, root =>
        {
            ciphertext = (string)root["ciphertext"]!;
            root["protection"] = "none";
            root.Remove("kdf");
            root.Remove("nonce");
            root.Remove("ciphertext");
            root["share"] = ciphertext;
        });
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, Refused(path, KeyFileProtection.Unprotected()).Reason);
    }

    // ---- public info, secrecy, permissions, atomicity ----

    [Fact]
    public void Public_info_needs_no_passphrase()
    {
        string path = SaveProtected();
        KeyFileInfo info = ClientKeyFile.ReadPublicInfo(path);
        Assert.Equal(ExpectedPem, info.PublicKeyPem);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", info.PublicKeyPem, StringComparison.Ordinal);
        Assert.Equal(Share.KeyId, info.KeyId);
        Assert.Equal(UserId, info.UserId);
        Assert.Equal(CurveKind.Secp256k1, info.Curve);
        Assert.True(info.IsProtected);
        Assert.Equal(Share.DeviceId, info.DeviceId);
        Assert.Equal(ExpectedShareId, info.ShareId);
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportFromPem(info.PublicKeyPem);
    }

    [Fact]
    public void Public_info_refuses_a_malformed_public_key()
    {
        string path = SaveProtected();
        Edit(path, root => root["publicKeyPem"] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, Assert.Throws<MpcSignerException>(() => ClientKeyFile.ReadPublicInfo(path)).Reason);
    }

    [Fact]
    public void Protected_file_does_not_contain_the_share()
    {
        string path = SaveProtected();
        byte[] file = File.ReadAllBytes(path);
        byte[] secret = Share.ExportSecret();
        try
        {
            // Layout of ExportSecret: [4|version][4|keyId][4|curve][4|x2]...
            int x2Offset = 8 + 4 + Encoding.UTF8.GetByteCount(Share.KeyId) + 8 + 4;
            int scalarLength = EcCurve.Get(Share.Curve).ScalarLength;
            byte[] x2 = secret.AsSpan(x2Offset, scalarLength).ToArray();
            JsonObject root = JsonNode.Parse(file)!.AsObject();
            byte[] ciphertext = Convert.FromBase64String((string)root["ciphertext"]!);
            Assert.Equal(-1, file.AsSpan().IndexOf(x2));
            Assert.Equal(-1, ciphertext.AsSpan().IndexOf(x2));
            string text = Encoding.UTF8.GetString(file);
            Assert.DoesNotContain(Convert.ToBase64String(secret), text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(x2), text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    [Fact]
    public void File_is_owner_read_write_only_on_unix()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string path = SaveProtected();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Save_over_an_existing_file_replaces_it_atomically()
    {
        string path = _dir.File("key.json");
        File.WriteAllText(path, "old contents");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        ClientKeyFile.Save(path, Share, UserId, KeyFileProtection.Passphrase(Secret), _cheap);
        ClientKeyFile.Save(path, Share, "bob@example.com", KeyFileProtection.Passphrase(Secret), _cheap);

        Assert.Equal([path], Directory.GetFiles(_dir.Path));
        Assert.Equal("bob@example.com", ClientKeyFile.ReadPublicInfo(path).UserId);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void Refused_save_leaves_the_existing_file_untouched()
    {
        string path = SaveProtected();
        byte[] before = File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => ClientKeyFile.Save(path, Share, "bad\nuser", KeyFileProtection.Passphrase(Secret), _cheap));
        Assert.Throws<DirectoryNotFoundException>(() =>
            ClientKeyFile.Save(_dir.File("missing/key.json"), Share, UserId, KeyFileProtection.Passphrase(Secret), _cheap));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }

    // ---- passphrase change ----

    [Fact]
    public void Change_passphrase_reencrypts_with_fresh_salt_and_nonce()
    {
        string path = SaveProtected();
        JsonObject before = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        KeyFileInfo info = ClientKeyFile.ChangePassphrase(path, KeyFileProtection.Passphrase(Secret),
            KeyFileProtection.Passphrase("a new passphrase"), fixture.Backend, _cheap);
        JsonObject after = JsonNode.Parse(File.ReadAllText(path))!.AsObject();

        Assert.Equal(UserId, info.UserId);
        Assert.NotEqual((string?)before["kdf"]!["salt"], (string?)after["kdf"]!["salt"]);
        Assert.NotEqual((string?)before["nonce"], (string?)after["nonce"]);
        Assert.Equal(MpcErrorReason.WrongPassphrase, Refused(path, KeyFileProtection.Passphrase(Secret)).Reason);
        using ClientKeyShare loaded = Load(path, KeyFileProtection.Passphrase("a new passphrase"));
        fixture.AssertSameShare(loaded);
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void Change_passphrase_with_the_wrong_old_passphrase_leaves_the_file_untouched()
    {
        string path = SaveProtected();
        byte[] before = File.ReadAllBytes(path);
        MpcSignerException e = Assert.Throws<MpcSignerException>(() => ClientKeyFile.ChangePassphrase(path,
            KeyFileProtection.Passphrase("guess"), KeyFileProtection.Passphrase("a new passphrase"), fixture.Backend, _cheap));
        Assert.Equal(MpcErrorReason.WrongPassphrase, e.Reason);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    // ---- parameter policy ----

    [Fact]
    public void Parameters_weaker_than_the_minimum_cannot_be_created_publicly()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Argon2idParameters.Create(2, 65536, 4, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => Argon2idParameters.Create(3, 32768, 4, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => Argon2idParameters.Create(3, 65536, 4, 8));
        Assert.Equal(4, Argon2idParameters.Create(4, 131072, 4, 32).Iterations);
    }

    [Fact]
    public void Protection_never_prints_the_passphrase()
    {
        Assert.DoesNotContain(Secret, KeyFileProtection.Passphrase(Secret).ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => KeyFileProtection.Passphrase(""));
    }
}
