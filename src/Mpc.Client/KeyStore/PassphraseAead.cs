using System.Security.Cryptography;
using System.Text;

namespace Mpc.Client.KeyStore;

/// <summary>
/// The one passphrase encryption of the client: Argon2id (parameters given by the caller, pinned by its minimum)
/// derives a 256-bit key, AES-256-GCM with a 96-bit nonce and a 128-bit tag seals the secret. The key file, the
/// share backup and the pending device enrolment all use it, each with its own associated data.
/// </summary>
internal static class PassphraseAead
{
    public const int KeyLength = 32;
    public const int NonceLength = 12;
    public const int TagLength = 16;

    /// <summary>Returns ciphertext ‖ tag.</summary>
    public static byte[] Seal(ReadOnlySpan<char> passphrase, Argon2idParameters kdf, byte[] salt, ReadOnlySpan<byte> nonce,
        ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, PassphraseKeyCache? derivedKeys = null, bool preferForSealing = false)
    {
        byte[] output = new byte[plaintext.Length + TagLength];
        byte[] key = DeriveKey(passphrase, kdf, salt, derivedKeys, preferForSealing);
        try
        {
            Encrypt(key, nonce, plaintext, output, associatedData);
            return output;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// Opens ciphertext ‖ tag; the caller zeroes the result. A wrong passphrase and a modified input are the same
    /// failure to GCM: <see cref="AuthenticationTagMismatchException"/>, which the caller words for its file.
    /// </summary>
    public static byte[] Open(ReadOnlySpan<char> passphrase, Argon2idParameters kdf, byte[] salt, ReadOnlySpan<byte> nonce,
        ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, PassphraseKeyCache? derivedKeys = null, bool preferForSealing = false)
    {
        if (ciphertextAndTag.Length < TagLength)
        {
            throw new ArgumentException("Ciphertext is shorter than the tag.", nameof(ciphertextAndTag));
        }
        int length = ciphertextAndTag.Length - TagLength;
        byte[] plaintext = new byte[length];
        byte[] key = DeriveKey(passphrase, kdf, salt, derivedKeys, preferForSealing);
        try
        {
            Decrypt(key, nonce, ciphertextAndTag, plaintext, associatedData);
            return plaintext;
        }
        catch
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    // AES-256-GCM (96-bit nonce, 128-bit tag), also for the device handover: the platform's where it has one;
    // BouncyCastle's in browser WebAssembly, where .NET has no AES (src/Mpc.Browser writes and opens backups and
    // handovers). Same algorithm, same bytes: a failed tag check is AuthenticationTagMismatchException either way.
    internal static void Encrypt(byte[] key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData)
    {
        if (AesGcm.IsSupported)
        {
            using var aes = new AesGcm(key, TagLength);
            aes.Encrypt(nonce, plaintext, ciphertextAndTag[..plaintext.Length], ciphertextAndTag[plaintext.Length..], associatedData);
            return;
        }
        Org.BouncyCastle.Crypto.Modes.GcmBlockCipher gcm = ManagedGcm(key, nonce, associatedData, forEncryption: true);
        int written = gcm.ProcessBytes(plaintext, ciphertextAndTag);
        gcm.DoFinal(ciphertextAndTag[written..]);
    }

    internal static void Decrypt(byte[] key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertextAndTag, Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        int length = ciphertextAndTag.Length - TagLength;
        if (AesGcm.IsSupported)
        {
            using var aes = new AesGcm(key, TagLength);
            aes.Decrypt(nonce, ciphertextAndTag[..length], ciphertextAndTag[length..], plaintext, associatedData);
            return;
        }
        Org.BouncyCastle.Crypto.Modes.GcmBlockCipher gcm = ManagedGcm(key, nonce, associatedData, forEncryption: false);
        // BouncyCastle buffers the plaintext until the tag is checked, so nothing unauthenticated reaches the caller.
        byte[] output = new byte[length + TagLength];
        try
        {
            int written = gcm.ProcessBytes(ciphertextAndTag, output);
            written += gcm.DoFinal(output.AsSpan(written));
            output.AsSpan(0, length).CopyTo(plaintext);
        }
        catch (Org.BouncyCastle.Crypto.InvalidCipherTextException e)
        {
            throw new AuthenticationTagMismatchException(e.Message, e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(output);
        }
    }

    private static Org.BouncyCastle.Crypto.Modes.GcmBlockCipher ManagedGcm(byte[] key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> associatedData, bool forEncryption)
    {
        var gcm = new Org.BouncyCastle.Crypto.Modes.GcmBlockCipher(new Org.BouncyCastle.Crypto.Engines.AesEngine());
        gcm.Init(forEncryption, new Org.BouncyCastle.Crypto.Parameters.AeadParameters(
            new Org.BouncyCastle.Crypto.Parameters.KeyParameter(key), TagLength * 8, nonce.ToArray(), associatedData.ToArray()));
        return gcm;
    }

    /// <summary>
    /// The salt for a new file: the one whose derivation <paramref name="derivedKeys"/> already holds for these
    /// parameters (one Argon2id per command, see <see cref="PassphraseKeyCache"/>), otherwise a fresh random one.
    /// </summary>
    public static byte[] SaltFor(ReadOnlySpan<char> passphrase, Argon2idParameters kdf, PassphraseKeyCache? derivedKeys) =>
        derivedKeys?.SealingSalt(passphrase, kdf) ?? RandomNumberGenerator.GetBytes(kdf.SaltLength);

    private static byte[] DeriveKey(ReadOnlySpan<char> passphrase, Argon2idParameters kdf, byte[] salt, PassphraseKeyCache? derivedKeys, bool preferForSealing) =>
        derivedKeys is null ? DeriveKey(passphrase, kdf, salt) : derivedKeys.KeyFor(passphrase, kdf, salt, preferForSealing);

    /// <summary>
    /// Argon2id over the exact UTF-8 bytes of the passphrase. Deliberately not Unicode-normalised: under
    /// InvariantGlobalization (our default) <see cref="string.Normalize()"/> does not normalise, so normalising
    /// here would make the derived key depend on how the host process is configured.
    /// </summary>
    public static byte[] DeriveKey(ReadOnlySpan<char> passphrase, Argon2idParameters kdf, byte[] salt)
    {
        byte[] passphraseBytes = new byte[Encoding.UTF8.GetByteCount(passphrase)];
        byte[] key = new byte[KeyLength];
        try
        {
            Encoding.UTF8.GetBytes(passphrase, passphraseBytes);
            kdf.Derive(passphraseBytes, salt, key);
            return key;
        }
        catch
        {
            CryptographicOperations.ZeroMemory(key);
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passphraseBytes);
        }
    }
}
