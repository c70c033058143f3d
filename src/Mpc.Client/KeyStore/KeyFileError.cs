namespace Mpc.Client.KeyStore;

/// <summary>
/// Central place key-file errors are raised from, so every refusal reads the same way. Messages are single lines fit
/// for a command-line tool and never contain a passphrase, key material or file contents.
/// </summary>
internal static class KeyFileError
{
    public static MpcSignerException NotFound(string path, Exception inner) =>
        new(MpcErrorReason.KeyFileNotFound, $"key file not found: {path}", inner);

    public static MpcSignerException Corrupt(string what) =>
        new(MpcErrorReason.KeyFileCorrupt, $"key file is corrupt: {what}");

    public static MpcSignerException NotJson(Exception inner) =>
        new(MpcErrorReason.KeyFileCorrupt, "key file is not valid JSON", inner);

    public static MpcSignerException WrongPassphrase(Exception inner) =>
        new(MpcErrorReason.WrongPassphrase,
            "wrong passphrase or corrupted key file (AES-GCM cannot tell a wrong passphrase from a modified file)", inner);

    public static MpcSignerException Downgrade() =>
        new(MpcErrorReason.KdfDowngrade, "key file uses weaker Argon2id parameters than this client accepts");

    public static MpcSignerException NeedsPassphrase() =>
        new(MpcErrorReason.KeyFileProtectionMismatch, "key file is passphrase-protected; a passphrase is required to load it");

    public static MpcSignerException NotProtected() =>
        new(MpcErrorReason.KeyFileProtectionMismatch,
            "key file is not passphrase-protected; load it as unprotected explicitly, or re-protect it with a passphrase");

    public static MpcSignerException Inconsistent(string what) =>
        new(MpcErrorReason.KeyFileInconsistent, $"key file is inconsistent: {what}");

    public static MpcSignerException UnsupportedVersion(long version) =>
        new(MpcErrorReason.UnsupportedVersion, $"key file version {version} is not supported by this client (expected {KeyFileFormat.Version1} or {KeyFileFormat.Version})");
}
