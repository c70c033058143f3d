using System.Security.Cryptography;

namespace Mpc.Client.KeyStore;

/// <summary>
/// The Argon2id outputs one command has already derived from one passphrase, so that a command that opens this
/// device's profile and then writes a key file pays one Argon2id instead of two: a key file or pending file written
/// through a <see cref="KeyFileProtection"/> that carries this cache reuses the profile's salt and parameters (and so
/// its derived key), with its own fresh AES-GCM nonce. Files with another salt or other parameters (older files,
/// files from another device) are opened with their own derivation, which is then remembered too.
/// </summary>
/// <remarks>
/// Why sharing the salt costs nothing (docs/key-custody.md, "One Argon2id per command"): files sealed under one
/// passphrase fall together anyway: whoever holds both tests a guess against either with one Argon2id, and a hit opens
/// both. A per-device random salt still defeats precomputation across devices and users. The cache is bound to the
/// first passphrase it is given (a key derived from another passphrase is never handed out for it), lives as long as
/// its owner (one CLI command, or an SDK caller's scope) and zeroes every key on <see cref="Dispose"/>.
/// </remarks>
internal sealed class PassphraseKeyCache : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<Entry> _entries = [];
    private string? _passphrase;
    private Entry? _sealing;
    private bool _disposed;

    /// <summary>Argon2id runs made through this cache: the seam tests count (never timing).</summary>
    public int Derivations { get; private set; }

    /// <summary>Ties the cache to one passphrase; a second, different one is a programming error.</summary>
    /// <exception cref="InvalidOperationException">The cache already serves another passphrase.</exception>
    internal void Bind(string passphrase)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_passphrase is null)
            {
                _passphrase = passphrase;
            }
            else if (!string.Equals(_passphrase, passphrase, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("A derived-key cache serves one passphrase only.");
            }
        }
    }

    /// <summary>
    /// The salt a new file sealed with <paramref name="kdf"/> should use: the device profile's when it was derived
    /// with exactly these parameters, else any remembered derivation's with them; null when there is none (the
    /// caller then draws a fresh salt).
    /// </summary>
    internal byte[]? SealingSalt(ReadOnlySpan<char> passphrase, Argon2idParameters kdf)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!Serves(passphrase))
            {
                return null;
            }
            Entry? entry = _sealing is { } preferred && preferred.Kdf == kdf ? preferred : _entries.Find(e => e.Kdf == kdf);
            return entry?.Salt.ToArray();
        }
    }

    /// <summary>
    /// The 32-byte Argon2id output for (<paramref name="kdf"/>, <paramref name="salt"/>), derived once and remembered;
    /// returns a copy the caller zeroes. <paramref name="preferForSealing"/>: this is the device profile's derivation,
    /// the one later files are sealed under.
    /// </summary>
    internal byte[] KeyFor(ReadOnlySpan<char> passphrase, Argon2idParameters kdf, byte[] salt, bool preferForSealing)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!Serves(passphrase))
            {
                // Not this cache's passphrase: derive, but neither remember nor hand out anything remembered.
                return PassphraseAead.DeriveKey(passphrase, kdf, salt);
            }
            Entry? entry = _entries.Find(e => e.Kdf == kdf && CryptographicOperations.FixedTimeEquals(e.Salt, salt));
            if (entry is null)
            {
                byte[] key = PassphraseAead.DeriveKey(passphrase, kdf, salt);
                Derivations++;
                entry = new Entry(kdf, salt.ToArray(), key);
                _entries.Add(entry);
            }
            if (preferForSealing)
            {
                _sealing = entry;
            }
            return entry.Key.ToArray();
        }
    }

    private bool Serves(ReadOnlySpan<char> passphrase) => _passphrase is not null && passphrase.SequenceEqual(_passphrase);

    /// <summary>Zeroes every remembered key; the cache cannot be used afterwards.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            foreach (Entry entry in _entries)
            {
                CryptographicOperations.ZeroMemory(entry.Key);
            }
            _entries.Clear();
            _sealing = null;
            _passphrase = null;
        }
    }

    public override string ToString() => $"PassphraseKeyCache({_entries.Count} keys)";

    private sealed record Entry(Argon2idParameters Kdf, byte[] Salt, byte[] Key);
}
