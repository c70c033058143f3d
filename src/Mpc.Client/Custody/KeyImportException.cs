namespace Mpc.Client.Custody;

/// <summary>Why an existing key could not be imported. Stable: the CLI maps these to exit codes and hints.</summary>
public enum KeyImportReason
{
    /// <summary>The password does not open the file (for PKCS#12, the integrity MAC does not verify).</summary>
    WrongPassword = 1,

    /// <summary>The key is encrypted and no password was given.</summary>
    PasswordRequired,

    /// <summary>Truncated or structurally broken file.</summary>
    Corrupt,

    /// <summary>Neither PKCS#12 nor a PEM file with a private key block we know.</summary>
    UnrecognisedFormat,

    /// <summary>An RSA key: not supported yet.</summary>
    RsaKey,

    /// <summary>Another algorithm (Ed25519, DSA...).</summary>
    UnsupportedAlgorithm,

    /// <summary>An EC key on a curve other than P-256, P-384 and secp256k1, or with explicit curve parameters.</summary>
    UnsupportedCurve,

    /// <summary>The file holds no private key.</summary>
    NoPrivateKey,

    /// <summary>The file holds more than one private key; which one is meant is the user's choice, not ours.</summary>
    SeveralPrivateKeys,

    /// <summary>The (leaf) certificate certifies another key.</summary>
    CertificateMismatch,

    /// <summary>The key contradicts itself: scalar out of range, or a stored public key that is not d·G.</summary>
    InconsistentKey,

    /// <summary>Old OpenSSL "Proc-Type: 4,ENCRYPTED" PEM encryption, which we do not read.</summary>
    LegacyPemEncryption,
}

/// <summary>
/// The one exception <see cref="ImportedKeyReader"/> throws for a file it cannot import. Messages are single lines
/// naming the file and what to do, never containing a password, key material or file contents.
/// </summary>
public sealed class KeyImportException : Exception
{
    public KeyImportException(KeyImportReason reason, string message) : base(message) => Reason = reason;

    public KeyImportException(KeyImportReason reason, string message, Exception innerException) : base(message, innerException) =>
        Reason = reason;

    public KeyImportReason Reason { get; }
}
