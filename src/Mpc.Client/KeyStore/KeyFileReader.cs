using System.Security.Cryptography;
using System.Text.Json;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Protocol;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Client.KeyStore;

/// <summary>
/// Reads a client key file from disk and checks the form of every clear field (format, version, ids, curve, canonical
/// public key, protection fields), with nothing that needs the passphrase; <see cref="ClientKeyFile"/> decrypts and imports.
/// </summary>
internal static class KeyFileReader
{
    internal static byte[] ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > KeyFileFormat.MaxFileBytes)
            {
                throw KeyFileError.Corrupt("file is far too large to be a client key file");
            }
            byte[] bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw KeyFileError.NotFound(path, e);
        }
    }

    internal sealed record ParsedFile(KeyFileDto Dto, KeyFileInfo Info, byte[]? Salt, byte[]? Nonce, byte[]? Ciphertext, byte[]? Share);

    /// <summary>Parses and checks the form of every field; nothing here needs the passphrase.</summary>
    internal static ParsedFile Parse(byte[] bytes)
    {
        // JSON text is UTF-8; System.Text.Json only finds a bad byte when a string is read, as an InvalidOperationException.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            throw KeyFileError.Corrupt("the file is not UTF-8 text");
        }
        KeyFileDto dto;
        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 8 });
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw KeyFileError.Corrupt("the document is not a JSON object");
            }
            // Format and version first, so a newer file is reported as such rather than as unknown fields.
            if (!root.TryGetProperty("format", out JsonElement format) || !IsFormat(format))
            {
                throw KeyFileError.Corrupt($"not an {KeyFileFormat.Format} file");
            }
            if (!root.TryGetProperty("version", out JsonElement version) || version.ValueKind != JsonValueKind.Number
                || !version.TryGetInt64(out long versionNumber))
            {
                throw KeyFileError.Corrupt("missing or malformed 'version'");
            }
            if (versionNumber is not (KeyFileFormat.Version1 or KeyFileFormat.Version))
            {
                throw KeyFileError.UnsupportedVersion(versionNumber);
            }
            try
            {
                dto = root.Deserialize(KeyFileJsonContext.Default.KeyFileDto)
                    ?? throw KeyFileError.Corrupt("the document is empty");
            }
            catch (JsonException e)
            {
                throw new MpcSignerException(MpcErrorReason.KeyFileCorrupt, "key file is corrupt: unexpected or mistyped field", e);
            }
        }
        catch (JsonException e)
        {
            throw KeyFileError.NotJson(e);
        }

        string keyId = Require(dto.KeyId, "keyId");
        if (!KeyIds.IsValid(keyId))
        {
            throw KeyFileError.Corrupt("'keyId' is not a valid key id");
        }
        string userId = Require(dto.UserId, "userId");
        if (!ClientKeyFile.IsValidUserId(userId))
        {
            throw KeyFileError.Corrupt("'userId' is not a valid user id");
        }
        CurveKind curve = ParseCurve(Require(dto.Curve, "curve"));
        string pem = Require(dto.PublicKeyPem, "publicKeyPem");
        RequireCanonicalPem(curve, pem);
        (string? deviceId, string? shareId) = ParseShareNames(dto);

        string protection = Require(dto.Protection, "protection");
        switch (protection)
        {
            case KeyFileFormat.ProtectionNone:
            {
                if (dto.Kdf is not null || dto.Nonce is not null || dto.Ciphertext is not null)
                {
                    throw KeyFileError.Corrupt("an unprotected file carries encryption fields");
                }
                byte[] share = Base64(Require(dto.Share, "share"), "share");
                var info = new KeyFileInfo(keyId, userId, curve, pem, false, null, deviceId, shareId);
                return new ParsedFile(dto, info, null, null, null, share);
            }
            case KeyFileFormat.ProtectionArgon2idAesGcm:
            {
                if (dto.Share is not null)
                {
                    throw KeyFileError.Corrupt("a protected file carries a clear share");
                }
                KdfDto kdfDto = dto.Kdf ?? throw KeyFileError.Corrupt("missing field 'kdf'");
                byte[] salt = Base64(Require(kdfDto.Salt, "kdf.salt"), "kdf.salt");
                if (kdfDto.T is not long t || kdfDto.M is not long m || kdfDto.P is not long p)
                {
                    throw KeyFileError.Corrupt("missing field 'kdf.t', 'kdf.m' or 'kdf.p'");
                }
                if (!Argon2idParameters.IsWithinLimits(t, m, p, salt.Length))
                {
                    throw KeyFileError.Corrupt($"Argon2id parameters are outside the range this client supports ({Argon2idParameters.LimitsText})");
                }
                var kdf = Argon2idParameters.Unchecked((int)t, (int)m, (int)p, salt.Length);
                byte[] nonce = Base64(Require(dto.Nonce, "nonce"), "nonce");
                if (nonce.Length != KeyFileFormat.NonceLength)
                {
                    throw KeyFileError.Corrupt($"'nonce' must be {KeyFileFormat.NonceLength} bytes");
                }
                byte[] ciphertext = Base64(Require(dto.Ciphertext, "ciphertext"), "ciphertext");
                if (ciphertext.Length <= KeyFileFormat.TagLength)
                {
                    throw KeyFileError.Corrupt("'ciphertext' is too short");
                }
                var info = new KeyFileInfo(keyId, userId, curve, pem, true, kdf, deviceId, shareId);
                return new ParsedFile(dto, info, salt, nonce, ciphertext, null);
            }
            default:
                throw KeyFileError.Corrupt("unknown 'protection'");
        }
    }

    /// <summary>
    /// Version 2 names the device and the share pair (both required); version 1 does not, and one that does was
    /// edited or mislabelled: its associated data could not cover them, so they are refused rather than ignored.
    /// </summary>
    private static (string? DeviceId, string? ShareId) ParseShareNames(KeyFileDto dto)
    {
        if (dto.Version == KeyFileFormat.Version1)
        {
            if (dto.DeviceId is not null || dto.ShareId is not null)
            {
                throw KeyFileError.Corrupt("a version 1 file carries 'deviceId' or 'shareId'");
            }
            return (null, null);
        }
        string deviceId = Require(dto.DeviceId, "deviceId");
        if (!DeviceIds.IsValid(deviceId))
        {
            throw KeyFileError.Corrupt("'deviceId' is not a valid device id");
        }
        string shareId = Require(dto.ShareId, "shareId");
        if (!KeyFileFormat.IsShareIdHex(shareId))
        {
            throw KeyFileError.Corrupt($"'shareId' is not {KeyFileFormat.ShareIdHexLength} lowercase hex characters");
        }
        return (deviceId, shareId);
    }

    /// <summary>
    /// Whether the "format" value is ours. An escaped lone surrogate ("\uDC00") makes System.Text.Json throw
    /// InvalidOperationException when it unescapes the string: such a value is simply not our format.
    /// </summary>
    private static bool IsFormat(JsonElement format)
    {
        try
        {
            return format.ValueKind == JsonValueKind.String && format.ValueEquals(KeyFileFormat.Format);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string Require(string? value, string field) =>
        value ?? throw KeyFileError.Corrupt($"missing field '{field}'");

    private static byte[] Base64(string value, string field)
    {
        try
        {
            return Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            throw KeyFileError.Corrupt($"'{field}' is not base64");
        }
    }

    /// <summary>Only the canonical names this client writes; aliases would let two spellings share one ciphertext.</summary>
    private static CurveKind ParseCurve(string name)
    {
        foreach (CurveKind kind in Enum.GetValues<CurveKind>())
        {
            if (string.Equals(EcCurve.NameOf(kind), name, StringComparison.Ordinal))
            {
                return kind;
            }
        }
        throw KeyFileError.Corrupt("'curve' names an unsupported curve");
    }

    /// <summary>
    /// Requires the PEM to be exactly what <see cref="PublicKeyEncoding.ToPem"/> writes for a valid point on the
    /// named curve, so the public key shown without a passphrase is at least a well-formed key.
    /// </summary>
    private static void RequireCanonicalPem(CurveKind kind, string pem)
    {
        try
        {
            PublicKeyEncoding.FromPem(EcCurve.Get(kind), pem);
        }
        catch (FormatException e)
        {
            throw new MpcSignerException(MpcErrorReason.KeyFileCorrupt, $"key file is corrupt: 'publicKeyPem' is {e.Message}", e);
        }
    }
}
