using System.Security.Cryptography;
using System.Text.Json;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Protocol;
using Mpc.Protocol.Keys;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Client.KeyStore;

/// <summary>Settings tests may change; production code always uses <see cref="Default"/>.</summary>
/// <param name="Kdf">Argon2id parameters for files saved without explicit parameters.</param>
/// <param name="Minimum">The weakest parameters the loader accepts.</param>
internal sealed record KeyFileOptions(Argon2idParameters Kdf, Argon2idParameters Minimum)
{
    public static KeyFileOptions Default { get; } = new(Argon2idParameters.Recommended, Argon2idParameters.Minimum);
}

/// <summary>
/// Saves and loads the client's key share. A protected file holds the share encrypted with AES-256-GCM under a
/// key derived from the passphrase with Argon2id; every clear field (key id, user, curve, public key, role,
/// KDF parameters and salt) is associated data, so editing any of them makes the file undecryptable.
/// Writes are atomic: a temporary file in the same directory (owner-only on Unix), flushed, then renamed.
/// </summary>
/// <remarks>
/// Errors about the file itself are <see cref="MpcSignerException"/>s; an unreadable path (permissions, I/O) surfaces
/// as the platform's <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>.
/// </remarks>
public static class ClientKeyFile
{
    private const int MaxUserIdLength = 256;

    /// <summary>Writes <paramref name="share"/> to <paramref name="path"/>, replacing any existing file atomically.</summary>
    /// <returns>The file's clear fields.</returns>
    public static KeyFileInfo Save(string path, ClientKeyShare share, string userId, KeyFileProtection protection) =>
        Save(path, share, userId, protection, KeyFileOptions.Default);

    /// <summary>Loads and checks a key file; the caller disposes the returned share.</summary>
    public static ClientKeyShare Load(string path, KeyFileProtection protection, IBigNumBackend backend) =>
        Load(path, protection, backend, out _, KeyFileOptions.Default);

    /// <summary>Loads and checks a key file; <paramref name="info"/> is verified against the decrypted share.</summary>
    public static ClientKeyShare Load(string path, KeyFileProtection protection, IBigNumBackend backend, out KeyFileInfo info) =>
        Load(path, protection, backend, out info, KeyFileOptions.Default);

    /// <summary>
    /// The clear fields, without a passphrase (for showing the public key). They are checked for form, not
    /// authenticated: only <see cref="Load(string, KeyFileProtection, IBigNumBackend, out KeyFileInfo)"/> proves them.
    /// </summary>
    public static KeyFileInfo ReadPublicInfo(string path)
    {
        byte[] bytes = ReadFile(path);
        try
        {
            return Parse(bytes).Info;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Re-encrypts the file under <paramref name="newProtection"/> with a fresh salt and nonce, atomically.</summary>
    public static KeyFileInfo ChangePassphrase(string path, KeyFileProtection oldProtection, KeyFileProtection newProtection, IBigNumBackend backend) =>
        ChangePassphrase(path, oldProtection, newProtection, backend, KeyFileOptions.Default);

    internal static KeyFileInfo ChangePassphrase(string path, KeyFileProtection oldProtection, KeyFileProtection newProtection, IBigNumBackend backend, KeyFileOptions options)
    {
        ArgumentNullException.ThrowIfNull(newProtection);
        using ClientKeyShare share = Load(path, oldProtection, backend, out KeyFileInfo info, options);
        return Save(path, share, info.UserId, newProtection, options);
    }

    internal static KeyFileInfo Save(string path, ClientKeyShare share, string userId, KeyFileProtection protection, KeyFileOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(share);
        ArgumentNullException.ThrowIfNull(protection);
        ArgumentNullException.ThrowIfNull(options);
        if (!IsValidUserId(userId))
        {
            throw new ArgumentException($"User id must be 1-{MaxUserIdLength} characters without control characters.", nameof(userId));
        }

        EcCurve curve = EcCurve.Get(share.Curve);
        var file = new KeyFileDto
        {
            Format = KeyFileFormat.Format,
            Version = KeyFileFormat.Version,
            KeyId = share.KeyId,
            UserId = userId,
            Curve = curve.Name,
            PublicKeyPem = PublicKeyEncoding.ToPem(curve, share.PublicKey),
        };
        Argon2idParameters? kdf = protection.IsProtected ? protection.Kdf ?? options.Kdf : null;

        byte[] secret = share.ExportSecret();
        byte[]? json = null;
        try
        {
            if (kdf is null)
            {
                file.Protection = KeyFileFormat.ProtectionNone;
                file.Share = Convert.ToBase64String(secret);
            }
            else
            {
                Encrypt(file, secret, protection.PassphraseText!, kdf);
            }
            json = JsonSerializer.SerializeToUtf8Bytes(file, KeyFileJsonContext.Default.KeyFileDto);
            SecretFile.WriteAtomically(path, json);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            if (json is not null)
            {
                CryptographicOperations.ZeroMemory(json);
            }
        }
        return new KeyFileInfo(share.KeyId, userId, share.Curve, file.PublicKeyPem, kdf is not null, kdf);
    }

    internal static ClientKeyShare Load(string path, KeyFileProtection protection, IBigNumBackend backend, out KeyFileInfo info, KeyFileOptions options)
    {
        ArgumentNullException.ThrowIfNull(protection);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        byte[] bytes = ReadFile(path);
        byte[]? secret = null;
        try
        {
            ParsedFile parsed = Parse(bytes);
            if (parsed.Info.IsProtected && !protection.IsProtected)
            {
                throw KeyFileError.NeedsPassphrase();
            }
            if (!parsed.Info.IsProtected && protection.IsProtected)
            {
                throw KeyFileError.NotProtected();
            }

            ClientKeyShare share;
            if (parsed.Info.IsProtected)
            {
                Argon2idParameters kdf = parsed.Info.Kdf!;
                if (!kdf.IsAtLeast(options.Minimum))
                {
                    throw KeyFileError.Downgrade();
                }
                secret = Decrypt(parsed, protection.PassphraseText!);
                share = Import(secret, backend, authenticated: true);
            }
            else
            {
                secret = parsed.Share!;
                share = Import(secret, backend, authenticated: false);
            }

            try
            {
                RequireConsistent(share, parsed.Info);
            }
            catch
            {
                share.Dispose();
                throw;
            }
            info = parsed.Info;
            return share;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
            if (secret is not null)
            {
                CryptographicOperations.ZeroMemory(secret);
            }
        }
    }

    private static void Encrypt(KeyFileDto file, byte[] secret, string passphrase, Argon2idParameters kdf)
    {
        byte[] salt = RandomNumberGenerator.GetBytes(kdf.SaltLength);
        byte[] nonce = RandomNumberGenerator.GetBytes(KeyFileFormat.NonceLength);
        file.Protection = KeyFileFormat.ProtectionArgon2idAesGcm;
        file.Kdf = new KdfDto { T = kdf.Iterations, M = kdf.MemoryKiB, P = kdf.Parallelism, Salt = Convert.ToBase64String(salt) };
        file.Nonce = Convert.ToBase64String(nonce);

        byte[] associatedData = KeyFileFormat.AssociatedData(file, kdf, salt);
        file.Ciphertext = Convert.ToBase64String(PassphraseAead.Seal(passphrase, kdf, salt, nonce, secret, associatedData));
    }

    private static byte[] Decrypt(ParsedFile parsed, string passphrase)
    {
        byte[] associatedData = KeyFileFormat.AssociatedData(parsed.Dto, parsed.Info.Kdf!, parsed.Salt);
        try
        {
            return PassphraseAead.Open(passphrase, parsed.Info.Kdf!, parsed.Salt!, parsed.Nonce, parsed.Ciphertext, associatedData);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw KeyFileError.WrongPassphrase(e);
        }
    }

    private static ClientKeyShare Import(byte[] secret, IBigNumBackend backend, bool authenticated)
    {
        try
        {
            return ClientKeyShare.ImportSecret(secret, backend);
        }
        catch (MpcProtocolException e)
        {
            // An authenticated share that does not parse was written wrongly; an unauthenticated one was damaged.
            throw authenticated
                ? new MpcSignerException(MpcErrorReason.KeyFileInconsistent, "key file is inconsistent: the decrypted share does not parse", e)
                : new MpcSignerException(MpcErrorReason.KeyFileCorrupt, "key file is corrupt: the share does not parse", e);
        }
    }

    private static void RequireConsistent(ClientKeyShare share, KeyFileInfo info)
    {
        if (!string.Equals(share.KeyId, info.KeyId, StringComparison.Ordinal))
        {
            throw KeyFileError.Inconsistent("the share's key id differs from the file's");
        }
        if (share.Curve != info.Curve)
        {
            throw KeyFileError.Inconsistent("the share's curve differs from the file's");
        }
        string pem = PublicKeyEncoding.ToPem(EcCurve.Get(share.Curve), share.PublicKey);
        if (!string.Equals(pem, info.PublicKeyPem, StringComparison.Ordinal))
        {
            throw KeyFileError.Inconsistent("the share's public key differs from the file's");
        }
    }

    private static byte[] ReadFile(string path)
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

    private sealed record ParsedFile(KeyFileDto Dto, KeyFileInfo Info, byte[]? Salt, byte[]? Nonce, byte[]? Ciphertext, byte[]? Share);

    /// <summary>Parses and checks the form of every field; nothing here needs the passphrase.</summary>
    private static ParsedFile Parse(byte[] bytes)
    {
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
            if (!root.TryGetProperty("format", out JsonElement format) || format.ValueKind != JsonValueKind.String
                || format.GetString() != KeyFileFormat.Format)
            {
                throw KeyFileError.Corrupt($"not an {KeyFileFormat.Format} file");
            }
            if (!root.TryGetProperty("version", out JsonElement version) || version.ValueKind != JsonValueKind.Number
                || !version.TryGetInt64(out long versionNumber))
            {
                throw KeyFileError.Corrupt("missing or malformed 'version'");
            }
            if (versionNumber != KeyFileFormat.Version)
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
        if (!IsValidUserId(userId))
        {
            throw KeyFileError.Corrupt("'userId' is not a valid user id");
        }
        CurveKind curve = ParseCurve(Require(dto.Curve, "curve"));
        string pem = Require(dto.PublicKeyPem, "publicKeyPem");
        RequireCanonicalPem(curve, pem);

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
                var info = new KeyFileInfo(keyId, userId, curve, pem, false, null);
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
                var info = new KeyFileInfo(keyId, userId, curve, pem, true, kdf);
                return new ParsedFile(dto, info, salt, nonce, ciphertext, null);
            }
            default:
                throw KeyFileError.Corrupt("unknown 'protection'");
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
        EcCurve curve = EcCurve.Get(kind);
        try
        {
            if (!PemEncoding.TryFind(pem, out PemFields fields) || pem[fields.Label] is not "PUBLIC KEY")
            {
                throw KeyFileError.Corrupt("'publicKeyPem' is not a PUBLIC KEY PEM");
            }
            byte[] der = Convert.FromBase64String(pem[fields.Base64Data].ToString());
            var info = SubjectPublicKeyInfo.GetInstance(Asn1Object.FromByteArray(der));
            byte[] uncompressed = info.PublicKey.GetOctets();
            if (uncompressed.Length != 1 + 2 * curve.FieldLength || uncompressed[0] != 0x04)
            {
                throw KeyFileError.Corrupt("'publicKeyPem' does not hold an uncompressed point");
            }
            byte[] compressed = new byte[1 + curve.FieldLength];
            compressed[0] = (byte)(0x02 | (uncompressed[^1] & 1));
            uncompressed.AsSpan(1, curve.FieldLength).CopyTo(compressed.AsSpan(1));
            ECPoint point = curve.DecodePoint(compressed, "public key");
            if (!string.Equals(PublicKeyEncoding.ToPem(curve, point), pem, StringComparison.Ordinal))
            {
                throw KeyFileError.Corrupt("'publicKeyPem' is not a canonical key on the named curve");
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or IOException or MpcProtocolException)
        {
            throw new MpcSignerException(MpcErrorReason.KeyFileCorrupt, "key file is corrupt: 'publicKeyPem' is not a valid public key", e);
        }
    }

    internal static bool IsValidUserId(string? userId) =>
        !string.IsNullOrEmpty(userId) && userId.Length <= MaxUserIdLength && !userId.Any(char.IsControl);


}
