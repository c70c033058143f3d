using System.Text.Json.Serialization;
using Mpc.Crypto.Encoding;
using Mpc.Protocol.Keys;

namespace Mpc.Client.KeyStore;

/// <summary>
/// The on-disk JSON layout of a client key file and its AES-GCM associated data. Version 2 (written) names the
/// device id and share id in the clear, so a refresh can start its public round trips while the share is still
/// being decrypted; version 1 (read only) does not.
/// </summary>
internal static class KeyFileFormat
{
    public const string Format = "mpc-signer/client-key";
    public const int Version = 2;
    public const int Version1 = 1;
    public const int ShareIdHexLength = 2 * ShareIds.Length;
    public const string ProtectionArgon2idAesGcm = "argon2id-aes256gcm";
    public const string ProtectionNone = "none";
    public const string Role = "client";
    public const int KeyLength = PassphraseAead.KeyLength;
    public const int NonceLength = PassphraseAead.NonceLength;
    public const int TagLength = PassphraseAead.TagLength;

    /// <summary>
    /// The one spelling of a share id in a header: lowercase hex as <c>Convert.ToHexStringLower</c> writes it, so the
    /// clear name compares ordinally with the share's.
    /// </summary>
    public static bool IsShareIdHex(string value) =>
        value.Length == ShareIdHexLength && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    /// <summary>A key file is a few kilobytes; anything far larger is not one of ours.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    /// <summary>
    /// Binds every clear field of the file's version, the role and the KDF parameters with salt to the ciphertext:
    /// changing any of them in the file makes decryption fail. Length-prefixed framing, so the encoding is
    /// unambiguous. A version 1 file's associated data is exactly what version 1 wrote, or old files would not open.
    /// </summary>
    public static byte[] AssociatedData(KeyFileDto file, Argon2idParameters kdf, ReadOnlySpan<byte> salt)
    {
        int version = file.Version ?? throw new InvalidOperationException("the key file's version is not set");
        if (version is not (Version1 or Version))
        {
            throw new InvalidOperationException($"no associated data for key file version {version}");
        }
        var writer = new WireWriter()
            .WriteString(Format)
            .WriteUInt32((uint)version)
            .WriteString(file.KeyId!)
            .WriteString(file.UserId!)
            .WriteString(file.Curve!)
            .WriteString(file.PublicKeyPem!);
        if (version == Version)
        {
            writer.WriteString(file.DeviceId!).WriteString(file.ShareId!);
        }
        return writer
            .WriteString(Role)
            .WriteString(ProtectionArgon2idAesGcm)
            .WriteUInt32(0x13) // Argon2 version 1.3
            .WriteUInt32(checked((uint)kdf.Iterations))
            .WriteUInt32(checked((uint)kdf.MemoryKiB))
            .WriteUInt32(checked((uint)kdf.Parallelism))
            .WriteBytes(salt)
            .ToArray();
    }
}

/// <summary>The JSON document. Every field is checked by the loader; none is trusted as read.</summary>
internal sealed class KeyFileDto
{
    [JsonPropertyName("format")] public string? Format { get; set; }
    [JsonPropertyName("version")] public int? Version { get; set; }
    [JsonPropertyName("keyId")] public string? KeyId { get; set; }
    [JsonPropertyName("userId")] public string? UserId { get; set; }
    [JsonPropertyName("curve")] public string? Curve { get; set; }
    [JsonPropertyName("publicKeyPem")] public string? PublicKeyPem { get; set; }
    [JsonPropertyName("deviceId")] public string? DeviceId { get; set; }
    [JsonPropertyName("shareId")] public string? ShareId { get; set; }
    [JsonPropertyName("protection")] public string? Protection { get; set; }
    [JsonPropertyName("kdf")] public KdfDto? Kdf { get; set; }
    [JsonPropertyName("nonce")] public string? Nonce { get; set; }
    [JsonPropertyName("ciphertext")] public string? Ciphertext { get; set; }
    [JsonPropertyName("share")] public string? Share { get; set; }
}

/// <summary>Argon2id parameters as stored: t, m (KiB), p and the base64 salt.</summary>
internal sealed class KdfDto
{
    [JsonPropertyName("t")] public long? T { get; set; }
    [JsonPropertyName("m")] public long? M { get; set; }
    [JsonPropertyName("p")] public long? P { get; set; }
    [JsonPropertyName("salt")] public string? Salt { get; set; }
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(KeyFileDto))]
internal sealed partial class KeyFileJsonContext : JsonSerializerContext;
