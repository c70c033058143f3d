namespace Mpc.Client.KeyStore;

/// <summary>
/// How a client key file is protected: a passphrase (Argon2id, then AES-256-GCM) or, explicitly, not at all.
/// Loading needs the same kind of protection the file was saved with, so a protected file is never read
/// as if protection were optional, and an unprotected one is never mistaken for a protected one.
/// </summary>
public sealed class KeyFileProtection
{
    private static readonly KeyFileProtection None = new(null, null);

    private KeyFileProtection(string? passphrase, Argon2idParameters? kdf, PassphraseKeyCache? derivedKeys = null)
    {
        PassphraseText = passphrase;
        Kdf = kdf;
        DerivedKeys = derivedKeys;
    }

    /// <summary>True when the file is (to be) encrypted under a passphrase.</summary>
    public bool IsProtected => PassphraseText is not null;

    /// <summary>The passphrase; never exposed publicly and never printed.</summary>
    internal string? PassphraseText { get; }

    /// <summary>Parameters to save with; null means the store's default (<see cref="Argon2idParameters.Recommended"/>).</summary>
    internal Argon2idParameters? Kdf { get; }

    /// <summary>
    /// Argon2id outputs this command already holds for the passphrase (owned and disposed by the caller): files
    /// opened and written through this protection share one derivation where their salt and parameters allow.
    /// </summary>
    internal PassphraseKeyCache? DerivedKeys { get; }

    /// <summary>The same protection remembering its Argon2id outputs in <paramref name="derivedKeys"/>; unprotected stays unprotected.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="derivedKeys"/> already serves another passphrase.</exception>
    internal KeyFileProtection WithDerivedKeys(PassphraseKeyCache derivedKeys)
    {
        ArgumentNullException.ThrowIfNull(derivedKeys);
        if (PassphraseText is null)
        {
            return this;
        }
        derivedKeys.Bind(PassphraseText);
        return new KeyFileProtection(PassphraseText, Kdf, derivedKeys);
    }

    /// <summary>Protect with a passphrase and the recommended Argon2id parameters.</summary>
    public static KeyFileProtection Passphrase(string passphrase) => Passphrase(passphrase, null);

    /// <summary>
    /// Protect with a passphrase and explicit Argon2id parameters (made by <see cref="Argon2idParameters.Create"/>,
    /// so never weaker than <see cref="Argon2idParameters.Minimum"/>). Parameters only matter when saving;
    /// loading reads them from the file.
    /// </summary>
    public static KeyFileProtection Passphrase(string passphrase, Argon2idParameters? kdf)
    {
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        return new KeyFileProtection(passphrase, kdf);
    }

    /// <summary>
    /// The same passphrase saving with <paramref name="kdf"/>: pass the <see cref="KeyFileInfo.Kdf"/> of a loaded file
    /// so that re-saving it (after a refresh) keeps its parameters instead of falling back to the default.
    /// Unprotected stays unprotected.
    /// </summary>
    public KeyFileProtection WithKdf(Argon2idParameters kdf)
    {
        ArgumentNullException.ThrowIfNull(kdf);
        return PassphraseText is null ? this : new KeyFileProtection(PassphraseText, kdf, DerivedKeys);
    }

    /// <summary>
    /// No protection: the share is written in clear and the file says so. For tests and throwaway keys only.
    /// </summary>
    public static KeyFileProtection Unprotected() => None;

    public override string ToString() => IsProtected ? "KeyFileProtection(passphrase)" : "KeyFileProtection(unprotected)";
}
