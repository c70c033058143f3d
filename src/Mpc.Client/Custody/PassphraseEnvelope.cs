using System.Security.Cryptography;
using System.Text;
using Mpc.Client.KeyStore;
using Mpc.Crypto;
using Mpc.Crypto.Encoding;

namespace Mpc.Client.Custody;

/// <summary>
/// The binary layout of the client's passphrase-protected custody files (share backup, pending enrolment):
/// <c>format, version, header fields…, "argon2id-aes256gcm", 0x13, t, m, p, salt, nonce, ciphertext‖tag</c>,
/// every field framed by <see cref="WireWriter"/>. The associated data is every byte before the ciphertext
/// field, so the format name, version, header and KDF parameters are all authenticated.
/// </summary>
internal static class PassphraseEnvelope
{
    public const string Protection = "argon2id-aes256gcm";
    public const uint Argon2Version = 0x13;

    /// <summary>Our files are a few kilobytes; anything far larger is not one of them and is not parsed.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    /// <summary>Every format the custody code writes, so a file of one kind given as another is named, not just refused.</summary>
    private static IEnumerable<(string Format, string Kind)> KnownKinds()
    {
        yield return (ClientShareBackup.Format, ClientShareBackup.Kind);
        yield return (DeviceEnrolmentRequest.PendingFormat, DeviceEnrolmentRequest.PendingKind);
        yield return (DeviceProfiles.DeviceProfile.Format, DeviceProfiles.DeviceProfileFile.Kind);
    }

    public static byte[] Seal(string format, uint version, Action<WireWriter> writeHeader, ReadOnlySpan<byte> plaintext,
        ReadOnlySpan<char> passphrase, Argon2idParameters kdf, PassphraseKeyCache? derivedKeys = null, bool preferForSealing = false)
    {
        if (passphrase.IsEmpty)
        {
            throw new ArgumentException("A passphrase is required.", nameof(passphrase));
        }
        byte[] salt = PassphraseAead.SaltFor(passphrase, kdf, derivedKeys);
        byte[] nonce = RandomNumberGenerator.GetBytes(PassphraseAead.NonceLength);
        var writer = new WireWriter().WriteString(format).WriteUInt32(version);
        writeHeader(writer);
        writer.WriteString(Protection)
            .WriteUInt32(Argon2Version)
            .WriteUInt32(checked((uint)kdf.Iterations))
            .WriteUInt32(checked((uint)kdf.MemoryKiB))
            .WriteUInt32(checked((uint)kdf.Parallelism))
            .WriteBytes(salt)
            .WriteBytes(nonce);
        byte[] ciphertext = PassphraseAead.Seal(passphrase, kdf, salt, nonce, plaintext, writer.WrittenSpan, derivedKeys, preferForSealing);
        return writer.WriteBytes(ciphertext).ToArray();
    }

    /// <summary>
    /// Checks the whole file's form and the KDF parameters against <paramref name="minimum"/> (null: only the
    /// structural limits, for showing the header); nothing here needs the passphrase, and nothing expensive runs
    /// before the parameters are accepted.
    /// </summary>
    public static Envelope<T> Parse<T>(ReadOnlySpan<byte> file, string format, uint version, string kind,
        WireReader.ReadItem<T> readHeader, Argon2idParameters? minimum) =>
        Parse(file, format, [version], kind, (ref WireReader reader, uint _) => readHeader(ref reader), minimum);

    /// <summary>Reads a header whose fields depend on the file's version (one of those the caller accepts).</summary>
    public delegate T ReadVersionedHeader<T>(ref WireReader reader, uint version);

    /// <summary>
    /// <see cref="Parse{T}(ReadOnlySpan{byte}, string, uint, string, WireReader.ReadItem{T}, Argon2idParameters?)"/> for a
    /// format that reads several versions: <paramref name="versions"/> are those accepted, and the header reader is told
    /// which one the file has.
    /// </summary>
    public static Envelope<T> Parse<T>(ReadOnlySpan<byte> file, string format, ReadOnlySpan<uint> versions, string kind,
        ReadVersionedHeader<T> readHeader, Argon2idParameters? minimum)
    {
        if (file.Length > MaxFileBytes)
        {
            throw new MpcSignerException(MpcErrorReason.WrongKind, $"not {kind}: the file is far too large");
        }
        RequireFormat(file, format, kind);
        try
        {
            var reader = new WireReader(file);
            reader.ReadString("format");
            uint fileVersion = reader.ReadUInt32("version");
            if (!versions.Contains(fileVersion))
            {
                throw new MpcSignerException(MpcErrorReason.UnsupportedVersion,
                    $"{kind} version {fileVersion} is not supported by this client (expected {string.Join(" or ", versions.ToArray())})");
            }
            T header = readHeader(ref reader, fileVersion);
            if (reader.ReadString("protection", 64) != Protection || reader.ReadUInt32("Argon2 version") != Argon2Version)
            {
                throw new FormatException("unknown protection");
            }
            uint t = reader.ReadUInt32("t");
            uint m = reader.ReadUInt32("m");
            uint p = reader.ReadUInt32("p");
            byte[] salt = reader.ReadByteArray("salt", maxLength: Argon2idParameters.MaxSaltLength);
            if (!Argon2idParameters.IsWithinLimits(t, m, p, salt.Length))
            {
                throw new MpcSignerException(MpcErrorReason.CorruptInput,
                    $"{kind} asks for Argon2id parameters outside the range this client supports ({Argon2idParameters.LimitsText})");
            }
            var kdf = Argon2idParameters.Unchecked((int)t, (int)m, (int)p, salt.Length);
            if (minimum is not null && !kdf.IsAtLeast(minimum))
            {
                throw new MpcSignerException(MpcErrorReason.KdfDowngrade, $"{kind} uses weaker Argon2id parameters than this client accepts");
            }
            byte[] nonce = reader.ReadByteArray("nonce", exactLength: PassphraseAead.NonceLength);
            byte[] ciphertext = reader.ReadByteArray("ciphertext");
            reader.EnsureEnd(kind);
            // The ciphertext is the last field, so everything before its length prefix is the associated data.
            int headerLength = file.Length - 4 - ciphertext.Length;
            if (ciphertext.Length <= PassphraseAead.TagLength)
            {
                throw new FormatException("ciphertext is too short");
            }
            return new Envelope<T>(header, kdf, salt, nonce, file[..headerLength].ToArray(), ciphertext);
        }
        catch (Exception e) when (e is MpcProtocolException or FormatException or ArgumentException)
        {
            throw new MpcSignerException(MpcErrorReason.CorruptInput, $"{kind} is truncated or corrupt", e);
        }
    }

    /// <summary>Opens a parsed envelope; the caller zeroes the result.</summary>
    public static byte[] Open<T>(Envelope<T> envelope, ReadOnlySpan<char> passphrase, string kind,
        PassphraseKeyCache? derivedKeys = null, bool preferForSealing = false)
    {
        try
        {
            return PassphraseAead.Open(passphrase, envelope.Kdf, envelope.Salt, envelope.Nonce, envelope.Ciphertext, envelope.AssociatedData,
                derivedKeys, preferForSealing);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new MpcSignerException(MpcErrorReason.WrongPassphrase, $"wrong passphrase, or the {kind} was modified", e);
        }
    }

    /// <summary>The file must start with our format field; a prefix of it is a truncated file, anything else another kind.</summary>
    private static void RequireFormat(ReadOnlySpan<byte> file, string format, string kind)
    {
        byte[] expected = new WireWriter().WriteString(format).ToArray();
        if (file.StartsWith(expected))
        {
            return;
        }
        if (expected.AsSpan().StartsWith(file))
        {
            throw new MpcSignerException(MpcErrorReason.CorruptInput, $"{kind} is truncated or corrupt");
        }
        foreach ((string otherFormat, string otherKind) in KnownKinds())
        {
            if (file.StartsWith(new WireWriter().WriteString(otherFormat).ToArray()))
            {
                throw new MpcSignerException(MpcErrorReason.WrongKind, $"this is {otherKind}, not {kind}");
            }
        }
        if (file.IndexOf(Encoding.UTF8.GetBytes(KeyFileFormat.Format)) >= 0)
        {
            throw new MpcSignerException(MpcErrorReason.WrongKind, $"this is a client key file, not {kind}");
        }
        throw new MpcSignerException(MpcErrorReason.WrongKind, $"not {kind}");
    }
}

/// <summary>A parsed, not yet opened, custody file.</summary>
internal sealed record Envelope<T>(T Header, Argon2idParameters Kdf, byte[] Salt, byte[] Nonce, byte[] AssociatedData, byte[] Ciphertext);
