using System.Security.Cryptography;
using System.Text.Json;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Protocol;
using Mpc.Protocol.Keys;

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
/// key derived from the passphrase with Argon2id; every clear field (key id, user, curve, public key, device id,
/// share id, role, KDF parameters and salt) is associated data, so editing any of them makes the file undecryptable.
/// Files are written as version 2; version 1 files (without device and share id) still load, and are rewritten as
/// version 2 by the next save (a passphrase change, a refresh).
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
    public static ClientKeyShare Load(string path, KeyFileProtection protection, MpcArithmetic? arithmetic = null) =>
        Load(path, protection, (arithmetic ?? MpcArithmetic.Default).Backend, out _, KeyFileOptions.Default);

    /// <summary>Loads and checks a key file; <paramref name="info"/> is verified against the decrypted share.</summary>
    public static ClientKeyShare Load(string path, KeyFileProtection protection, MpcArithmetic? arithmetic, out KeyFileInfo info) =>
        Load(path, protection, (arithmetic ?? MpcArithmetic.Default).Backend, out info, KeyFileOptions.Default);

    /// <summary>
    /// The clear fields, without a passphrase (for showing the public key). They are checked for form, not
    /// authenticated: only <see cref="Load(string, KeyFileProtection, MpcArithmetic, out KeyFileInfo)"/> proves them.
    /// </summary>
    public static KeyFileInfo ReadPublicInfo(string path)
    {
        byte[] bytes = KeyFileReader.ReadFile(path);
        try
        {
            return KeyFileReader.Parse(bytes).Info;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Re-encrypts the file under <paramref name="newProtection"/> with a fresh salt and nonce, atomically.</summary>
    public static KeyFileInfo ChangePassphrase(string path, KeyFileProtection oldProtection, KeyFileProtection newProtection, MpcArithmetic? arithmetic = null) =>
        ChangePassphrase(path, oldProtection, newProtection, (arithmetic ?? MpcArithmetic.Default).Backend, KeyFileOptions.Default);

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
            DeviceId = share.DeviceId,
            ShareId = Convert.ToHexStringLower(share.ShareId),
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
                Encrypt(file, secret, protection.PassphraseText!, kdf, protection.DerivedKeys);
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
        return new KeyFileInfo(share.KeyId, userId, share.Curve, file.PublicKeyPem, kdf is not null, kdf, file.DeviceId, file.ShareId);
    }

    internal static ClientKeyShare Load(string path, KeyFileProtection protection, IBigNumBackend backend, out KeyFileInfo info, KeyFileOptions options)
    {
        ArgumentNullException.ThrowIfNull(protection);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        byte[] bytes = KeyFileReader.ReadFile(path);
        byte[]? secret = null;
        try
        {
            KeyFileReader.ParsedFile parsed = KeyFileReader.Parse(bytes);
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
                secret = Decrypt(parsed, protection.PassphraseText!, protection.DerivedKeys);
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

    private static void Encrypt(KeyFileDto file, byte[] secret, string passphrase, Argon2idParameters kdf, PassphraseKeyCache? derivedKeys)
    {
        // The device profile's salt when this command already derived its key (one Argon2id per command); the nonce is always fresh.
        byte[] salt = PassphraseAead.SaltFor(passphrase, kdf, derivedKeys);
        byte[] nonce = RandomNumberGenerator.GetBytes(KeyFileFormat.NonceLength);
        file.Protection = KeyFileFormat.ProtectionArgon2idAesGcm;
        file.Kdf = new KdfDto { T = kdf.Iterations, M = kdf.MemoryKiB, P = kdf.Parallelism, Salt = Convert.ToBase64String(salt) };
        file.Nonce = Convert.ToBase64String(nonce);

        byte[] associatedData = KeyFileFormat.AssociatedData(file, kdf, salt);
        file.Ciphertext = Convert.ToBase64String(PassphraseAead.Seal(passphrase, kdf, salt, nonce, secret, associatedData, derivedKeys));
    }

    private static byte[] Decrypt(KeyFileReader.ParsedFile parsed, string passphrase, PassphraseKeyCache? derivedKeys)
    {
        byte[] associatedData = KeyFileFormat.AssociatedData(parsed.Dto, parsed.Info.Kdf!, parsed.Salt);
        try
        {
            return PassphraseAead.Open(passphrase, parsed.Info.Kdf!, parsed.Salt!, parsed.Nonce, parsed.Ciphertext, associatedData, derivedKeys);
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
        // Null only in a version 1 file. In an unprotected file nothing else catches an edited name, and a refresh
        // that trusted it would speak for another device or a share the file does not hold.
        if (info.DeviceId is not null && !string.Equals(share.DeviceId, info.DeviceId, StringComparison.Ordinal))
        {
            throw KeyFileError.Inconsistent("the share's device id differs from the file's");
        }
        if (info.ShareId is not null && !string.Equals(Convert.ToHexStringLower(share.ShareId), info.ShareId, StringComparison.Ordinal))
        {
            throw KeyFileError.Inconsistent("the share's share id differs from the file's");
        }
    }

    internal static bool IsValidUserId(string? userId) =>
        !string.IsNullOrEmpty(userId) && userId.Length <= MaxUserIdLength && !userId.Any(char.IsControl);
}
