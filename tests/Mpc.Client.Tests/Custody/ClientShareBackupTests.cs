using System.Security.Cryptography;
using Mpc.Client.Custody;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Protocol.Keys;
using Mpc.Client.Tests.KeyStore;
using static Mpc.Client.Tests.Custody.CustodyTestData;
using Mpc.Client;

namespace Mpc.Client.Tests.Custody;

public sealed class ClientShareBackupTests(KeyStoreFixture fixture) : IClassFixture<KeyStoreFixture>
{
    private const string Passphrase = "correct horse battery staple";

    private readonly BackupIdentity _identity = new(
        "alice@example.com", "key-0123", "alice-laptop", CurveKind.P256, RandomPublicKey(CurveKind.P256),
        new DateTimeOffset(2026, 11, 25, 10, 30, 15, 123, TimeSpan.FromHours(1)));

    private readonly byte[] _share = RandomNumberGenerator.GetBytes(200);

    private byte[] Seal(string passphrase = Passphrase) => ClientShareBackup.Seal(_share, _identity, passphrase, Cheap);

    private static MpcSignerException Refused(byte[] file, string passphrase = Passphrase, KeyFileOptions? options = null)
    {
        MpcSignerException e = Assert.Throws<MpcSignerException>(() => ClientShareBackup.Open(file, passphrase, out _, options ?? Cheap));
        AssertOneLine(e);
        return e;
    }

    [Fact]
    public void Round_trip_restores_the_share_and_the_identity()
    {
        byte[] opened = ClientShareBackup.Open(Seal(), Passphrase, out BackupIdentity identity, Cheap);

        Assert.Equal(_share, opened);
        Assert.Equal(_identity, identity);
        Assert.Equal(TimeSpan.Zero, identity.CreatedAt.Offset);
    }

    [Fact]
    public void Real_client_share_round_trips_and_imports()
    {
        ClientKeyShare share = fixture.Share;
        EcCurve curve = EcCurve.Get(share.Curve);
        var identity = new BackupIdentity("alice@example.com", share.KeyId, "phone", share.Curve, curve.EncodePoint(share.PublicKey), DateTimeOffset.UnixEpoch);
        byte[] secret = share.ExportSecret();
        byte[] file = ClientShareBackup.Seal(secret, identity, Passphrase, Cheap);

        byte[] opened = ClientShareBackup.Open(file, Passphrase, out BackupIdentity read, Cheap);
        using ClientKeyShare restored = ClientKeyShare.ImportSecret(opened, fixture.Backend);

        Assert.Equal(secret, opened);
        Assert.Equal(share.KeyId, restored.KeyId);
        Assert.Equal(read.PublicKey, curve.EncodePoint(restored.PublicKey));
        Assert.True(file.AsSpan().IndexOf(secret.AsSpan(0, 32)) < 0, "the share must not appear in clear");
    }

    [Fact]
    public void Identity_is_readable_without_the_passphrase()
    {
        Assert.Equal(_identity, ClientShareBackup.ReadIdentity(Seal()));
    }

    [Fact]
    public void Identity_copies_its_public_key_in_and_out()
    {
        byte[] key = RandomPublicKey(CurveKind.P256);
        var identity = _identity with { PublicKey = key };
        byte[] original = key.ToArray();
        key[1] ^= 1;
        identity.PublicKey[2] ^= 1;
        Assert.Equal(original, identity.PublicKey);
    }

    [Fact]
    public void Wrong_passphrase_is_refused_with_the_documented_message()
    {
        MpcSignerException e = Refused(Seal(), "Correct horse battery staple");
        Assert.Equal(MpcErrorReason.WrongPassphrase, e.Reason);
        Assert.Equal("wrong passphrase, or the backup file was modified", e.Message);
    }

    [Fact]
    public void Every_single_flipped_byte_is_refused()
    {
        byte[] file = Seal();
        var reasons = new HashSet<MpcErrorReason>();
        for (int i = 0; i < file.Length; i++)
        {
            byte[] edited = file.ToArray();
            edited[i] ^= 0x01;
            reasons.Add(Refused(edited).Reason);
        }
        // Framing edits are corrupt, clear-field edits fail GCM, KDF edits below the floor are downgrades.
        Assert.Contains(MpcErrorReason.WrongPassphrase, reasons);
        Assert.Contains(MpcErrorReason.CorruptInput, reasons);
    }

    [Fact]
    public void Edited_header_field_of_the_same_length_fails_authentication()
    {
        byte[] file = Seal();
        int at = IndexOf(file, "alice-laptop"u8.ToArray());
        file[at + "alice-laptop".Length - 1] = (byte)'q';

        Assert.Equal("alice-laptoq", ClientShareBackup.ReadIdentity(file).DeviceId);
        Assert.Equal(MpcErrorReason.WrongPassphrase, Refused(file).Reason);
    }

    [Fact]
    public void Flipped_ciphertext_and_tag_bytes_fail_authentication()
    {
        byte[] file = Seal();
        foreach (int fromEnd in new[] { 1, 16, 17, _share.Length + 16 })
        {
            byte[] edited = file.ToArray();
            edited[^fromEnd] ^= 0x80;
            Assert.Equal(MpcErrorReason.WrongPassphrase, Refused(edited).Reason);
        }
    }

    [Fact]
    public void Every_truncation_is_corrupt()
    {
        byte[] file = Seal();
        for (int length = 0; length < file.Length; length++)
        {
            MpcSignerException e = Refused(file[..length]);
            Assert.Equal(MpcErrorReason.CorruptInput, e.Reason);
        }
    }

    [Fact]
    public void Trailing_bytes_are_corrupt()
    {
        Assert.Equal(MpcErrorReason.CorruptInput, Refused([.. Seal(), 0]).Reason);
    }

    [Fact]
    public void A_client_key_file_is_not_a_backup()
    {
        using var dir = new TempDirectory();
        string path = dir.File("key.json");
        ClientKeyFile.Save(path, fixture.Share, "alice@example.com", KeyFileProtection.Passphrase(Passphrase), Cheap);

        MpcSignerException e = Refused(File.ReadAllBytes(path));
        Assert.Equal(MpcErrorReason.WrongKind, e.Reason);
        Assert.Equal("this is a client key file, not a client share backup", e.Message);
        Assert.Throws<MpcSignerException>(() => ClientShareBackup.ReadIdentity(File.ReadAllBytes(path)));
    }

    [Fact]
    public void A_backup_is_not_a_key_file()
    {
        using var dir = new TempDirectory();
        string path = dir.File("backup.bin");
        File.WriteAllBytes(path, Seal());

        MpcSignerException e = Assert.Throws<MpcSignerException>(() =>
            ClientKeyFile.Load(path, KeyFileProtection.Passphrase(Passphrase), fixture.Backend, out _, Cheap).Dispose());
        Assert.Equal(MpcErrorReason.KeyFileCorrupt, e.Reason);
    }

    [Fact]
    public void A_pending_enrolment_is_not_a_backup()
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create("key-0123");
        MpcSignerException e = Refused(request.ExportPending(Passphrase, Cheap));
        Assert.Equal(MpcErrorReason.WrongKind, e.Reason);
        Assert.Equal("this is a pending device enrolment, not a client share backup", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a backup at all")]
    public void Other_bytes_are_not_a_backup(string text)
    {
        Assert.Equal(MpcErrorReason.WrongKind, Refused(System.Text.Encoding.UTF8.GetBytes(text + "\n")).Reason);
    }

    [Fact]
    public void Production_minimum_refuses_weak_parameters_before_deriving()
    {
        MpcSignerException e = Refused(Seal(), options: KeyFileOptions.Default);
        Assert.Equal(MpcErrorReason.KdfDowngrade, e.Reason);
    }

    [Theory]
    [InlineData(3u, 64u * 1024, 4u, 16, null)]
    [InlineData(2u, 64u * 1024, 4u, 16, MpcErrorReason.KdfDowngrade)]
    [InlineData(3u, 32u * 1024, 4u, 16, MpcErrorReason.KdfDowngrade)]
    [InlineData(3u, 64u * 1024, 1u, 16, MpcErrorReason.KdfDowngrade)]
    [InlineData(3u, 64u * 1024, 4u, 8, MpcErrorReason.KdfDowngrade)]
    [InlineData(3u, uint.MaxValue, 4u, 16, MpcErrorReason.CorruptInput)]
    [InlineData(1000u, 64u * 1024, 4u, 16, MpcErrorReason.CorruptInput)]
    public void Hand_built_file_with_given_parameters_is_checked_against_the_pinned_minimum(uint t, uint m, uint p, int saltLength, MpcErrorReason? expected)
    {
        byte[] file = HandBuilt(ClientShareBackup.Version, t, m, p, saltLength);
        if (expected is null)
        {
            // The documented layout parses, and with production parameters the only failure left is GCM's.
            Assert.Equal("bob", ClientShareBackup.ReadIdentity(file).UserId);
            return;
        }
        Assert.Equal(expected, Refused(file, options: KeyFileOptions.Default).Reason);
    }

    [Fact]
    public void Newer_version_is_unsupported()
    {
        MpcSignerException e = Refused(HandBuilt(2, 3, 64 * 1024, 4, 16), options: KeyFileOptions.Default);
        Assert.Equal(MpcErrorReason.UnsupportedVersion, e.Reason);
        Assert.Equal("a client share backup version 2 is not supported by this client (expected 1)", e.Message);
    }

    [Fact]
    public void Changing_the_passphrase_rewraps_with_a_fresh_salt_and_nonce()
    {
        byte[] original = Seal();
        byte[] changed = ClientShareBackup.ChangePassphrase(original, Passphrase, "a new passphrase", Cheap);

        Assert.Equal(_share, ClientShareBackup.Open(changed, "a new passphrase", out BackupIdentity identity, Cheap));
        Assert.Equal(_identity, identity);
        Assert.Equal(MpcErrorReason.WrongPassphrase, Refused(changed, Passphrase).Reason);
        var before = Parse(original);
        var after = Parse(changed);
        Assert.NotEqual(before.Salt, after.Salt);
        Assert.NotEqual(before.Nonce, after.Nonce);
        Assert.NotEqual(before.Ciphertext, after.Ciphertext);
    }

    [Fact]
    public void Changing_the_passphrase_needs_the_old_one()
    {
        MpcSignerException e = Assert.Throws<MpcSignerException>(() => ClientShareBackup.ChangePassphrase(Seal(), "guess", "new", Cheap));
        Assert.Equal(MpcErrorReason.WrongPassphrase, e.Reason);
    }

    [Fact]
    public void Invalid_identity_or_empty_input_is_refused_when_sealing()
    {
        Assert.Throws<ArgumentException>(() => ClientShareBackup.Seal(_share, _identity with { KeyId = "bad key id" }, Passphrase, Cheap));
        Assert.Throws<ArgumentException>(() => ClientShareBackup.Seal(_share, _identity with { DeviceId = "a\nb" }, Passphrase, Cheap));
        Assert.Throws<ArgumentException>(() => ClientShareBackup.Seal(_share, _identity with { PublicKey = new byte[33] }, Passphrase, Cheap));
        Assert.Throws<ArgumentException>(() => ClientShareBackup.Seal(_share, _identity with { Curve = CurveKind.P384 }, Passphrase, Cheap));
        Assert.Throws<ArgumentException>(() => ClientShareBackup.Seal([], _identity, Passphrase, Cheap));
        Assert.Throws<ArgumentException>(() => ClientShareBackup.Seal(_share, _identity, "", Cheap));
    }

    [Fact]
    public void Sealing_twice_gives_different_files()
    {
        Assert.NotEqual(Seal(), Seal());
    }

    /// <summary>Salt, nonce and ciphertext, read by hand along the documented layout.</summary>
    private static (byte[] Salt, byte[] Nonce, byte[] Ciphertext) Parse(byte[] file)
    {
        var reader = new WireReader(file);
        foreach (string field in new[] { "format", "version", "user", "key", "device", "curve", "public key", "created at",
                     "protection", "argon2 version", "t", "m", "p" })
        {
            reader.ReadBytes(field);
        }
        byte[] salt = reader.ReadByteArray("salt");
        byte[] nonce = reader.ReadByteArray("nonce", exactLength: 12);
        byte[] ciphertext = reader.ReadByteArray("ciphertext");
        reader.EnsureEnd("backup");
        return (salt, nonce, ciphertext);
    }

    /// <summary>The layout of docs/key-custody.md, written out by hand.</summary>
    private static byte[] HandBuilt(uint version, uint t, uint m, uint p, int saltLength) =>
        new WireWriter()
            .WriteString("mpc-signer/client-share-backup")
            .WriteUInt32(version)
            .WriteString("bob")
            .WriteString("key-1")
            .WriteString("desktop")
            .WriteString("secp256k1")
            .WriteBytes(RandomPublicKey(CurveKind.Secp256k1))
            .WriteBytes(new byte[8])
            .WriteString("argon2id-aes256gcm")
            .WriteUInt32(0x13)
            .WriteUInt32(t)
            .WriteUInt32(m)
            .WriteUInt32(p)
            .WriteBytes(new byte[saltLength])
            .WriteBytes(new byte[12])
            .WriteBytes(RandomNumberGenerator.GetBytes(48))
            .ToArray();

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
