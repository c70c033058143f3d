namespace Mpc.Client.KeyStore;

/// <summary>Why a key file was refused. Stable: the CLI maps these to exit codes and hints.</summary>
public enum KeyFileReason
{
    NotFound = 1,
    Corrupt,
    WrongPassphrase,
    Downgrade,
    ProtectionMismatch,
    Inconsistent,
    UnsupportedVersion,
}

/// <summary>
/// The one exception the key store throws for a file it cannot use. Messages are single lines fit for a
/// command-line tool and never contain a passphrase, key material or file contents.
/// </summary>
public sealed class KeyFileException : Exception
{
    public KeyFileException(KeyFileReason reason, string message) : base(message) => Reason = reason;

    public KeyFileException(KeyFileReason reason, string message, Exception innerException) : base(message, innerException) =>
        Reason = reason;

    public KeyFileReason Reason { get; }
}

/// <summary>Central place key-file errors are raised from, so every refusal reads the same way.</summary>
internal static class KeyFileError
{
    public static KeyFileException NotFound(string path, Exception inner) =>
        new(KeyFileReason.NotFound, $"key file not found: {path}", inner);

    public static KeyFileException Corrupt(string what) =>
        new(KeyFileReason.Corrupt, $"key file is corrupt: {what}");

    public static KeyFileException NotJson(Exception inner) =>
        new(KeyFileReason.Corrupt, "key file is not valid JSON", inner);

    public static KeyFileException WrongPassphrase(Exception inner) =>
        new(KeyFileReason.WrongPassphrase,
            "wrong passphrase or corrupted key file (AES-GCM cannot tell a wrong passphrase from a modified file)", inner);

    public static KeyFileException Downgrade() =>
        new(KeyFileReason.Downgrade, "key file uses weaker Argon2id parameters than this client accepts");

    public static KeyFileException NeedsPassphrase() =>
        new(KeyFileReason.ProtectionMismatch, "key file is passphrase-protected; a passphrase is required to load it");

    public static KeyFileException NotProtected() =>
        new(KeyFileReason.ProtectionMismatch,
            "key file is not passphrase-protected; load it as unprotected explicitly, or re-protect it with a passphrase");

    public static KeyFileException Inconsistent(string what) =>
        new(KeyFileReason.Inconsistent, $"key file is inconsistent: {what}");

    public static KeyFileException UnsupportedVersion(long version) =>
        new(KeyFileReason.UnsupportedVersion, $"key file version {version} is not supported by this client (expected {KeyFileFormat.Version})");
}
