using System.Text.Json.Serialization;
using Mpc.Crypto.Encoding;

namespace Mpc.Client.KeyStore;

/// <summary>The on-disk JSON layout of a client key file, version 1, and its AES-GCM associated data.</summary>
internal static class KeyFileFormat
{
    public const string Format = "mpc-signer/client-key";
    public const int Version = 1;
    public const string ProtectionArgon2idAesGcm = "argon2id-aes256gcm";
    public const string ProtectionNone = "none";
    public const string Role = "client";
    public const int KeyLength = PassphraseAead.KeyLength;
    public const int NonceLength = PassphraseAead.NonceLength;
    public const int TagLength = PassphraseAead.TagLength;

    /// <summary>A v1 file is a couple of kilobytes; anything far larger is not one of ours.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    /// <summary>
    /// Binds every clear field, the role and the KDF parameters with salt to the ciphertext: changing any of
    /// them in the file makes decryption fail. Length-prefixed framing, so the encoding is unambiguous.
    /// </summary>
    public static byte[] AssociatedData(KeyFileDto file, Argon2idParameters kdf, ReadOnlySpan<byte> salt) =>
        new WireWriter()
            .WriteString(Format)
            .WriteUInt32(Version)
            .WriteString(file.KeyId!)
            .WriteString(file.UserId!)
            .WriteString(file.Curve!)
            .WriteString(file.PublicKeyPem!)
            .WriteString(Role)
            .WriteString(ProtectionArgon2idAesGcm)
            .WriteUInt32(0x13) // Argon2 version 1.3
            .WriteUInt32(checked((uint)kdf.Iterations))
            .WriteUInt32(checked((uint)kdf.MemoryKiB))
            .WriteUInt32(checked((uint)kdf.Parallelism))
            .WriteBytes(salt)
            .ToArray();
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
