using System.CommandLine;
using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Protocol.Keys;

namespace Mpc.Cli;

/// <summary>
/// A key file opened by any command that uses its share (sign, cert, refresh, backup, handover), with one set of
/// passphrase rules. Its protection (with the file's own Argon2id parameters) and its user, as authenticated by the
/// decryption, are kept so that a refresh writes the successor the same way.
/// </summary>
internal sealed class OpenedKeyFile
{
    private OpenedKeyFile(string path, KeyFileInfo info, KeyFileProtection protection, ClientKeyShare share)
    {
        Path = path;
        Info = info;
        Protection = protection;
        Share = share;
    }

    public string Path { get; }

    public KeyFileInfo Info { get; }

    public KeyFileProtection Protection { get; }

    public ClientKeyShare Share { get; }

    // derivedKeys: the command's Argon2id outputs (owned by the command); with it, the device profile and the file
    // the command writes share one derivation where their salts allow (PassphraseKeyCache).
    public static OpenedKeyFile Open(string path, string? passphraseEnv, bool unprotected, PassphraseKeyCache? derivedKeys = null)
    {
        KeyFileOpening opening = KeyFileOpening.Begin(path, passphraseEnv, unprotected, derivedKeys, inBackground: false);
        return new OpenedKeyFile(path, opening.Header, opening.Protection, opening.Share.GetAwaiter().GetResult());
    }
}

/// <summary>
/// A key file whose share is being decrypted (its Argon2id), on another thread when asked, while the command goes
/// on with its clear header: a refresh starts its round trips meanwhile (<see cref="MpcSignerClient.RefreshKeyFileAsync"/>).
/// The header is unauthenticated until <see cref="Share"/> completes: the decryption checks it against the share.
/// </summary>
internal sealed class KeyFileOpening
{
    private KeyFileOpening(KeyFileInfo header, KeyFileProtection protection, Task<ClientKeyShare> share)
    {
        Header = header;
        Protection = protection;
        Share = share;
    }

    public KeyFileInfo Header { get; }

    /// <summary>The protection to write the successor with: the file's passphrase and its own Argon2id parameters.</summary>
    public KeyFileProtection Protection { get; }

    public Task<ClientKeyShare> Share { get; }

    /// <summary>Asks for the passphrase here (never on another thread), then decrypts, on the thread pool when <paramref name="inBackground"/>.</summary>
    public static KeyFileOpening Begin(string path, string? passphraseEnv, bool unprotected, PassphraseKeyCache? derivedKeys, bool inBackground)
    {
        KeyFileInfo header = ClientKeyFile.ReadPublicInfo(path);
        KeyFileProtection protection = header.IsProtected
            ? KeyFileProtection.Passphrase(CommonOptions.KeyFilePassphrase(passphraseEnv))
            : unprotected ? KeyFileProtection.Unprotected()
            : throw CliException.LocalInput($"{path} is stored without a passphrase; pass {CommonOptions.UnprotectedOption} to use it anyway");
        if (derivedKeys is not null)
        {
            protection = protection.WithDerivedKeys(derivedKeys);
        }
        KeyFileProtection opener = protection;
        Func<ClientKeyShare> decrypt = () =>
        {
            ClientKeyShare opened = ClientKeyFile.Load(path, opener, MpcArithmetic.Default, out KeyFileInfo authenticated);
            if (authenticated != header)
            {
                // The file was replaced between the two reads: the header the command went on with is not this share's.
                opened.Dispose();
                throw CliException.LocalInput($"{path} changed while it was being read: run the command again");
            }
            return opened;
        };
        // Its own thread, not the pool's: on 2 cores the pool starts with 2 threads, and the Argon2id here plus the
        // profile's opening (which waits for this derivation) would leave none for the round trips' replies.
        Task<ClientKeyShare> share = inBackground
            ? Task.Factory.StartNew(decrypt, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : Task.FromResult(decrypt());
        // A refresh re-saves under the file's own (possibly stronger than default) Argon2id parameters; the decryption
        // refuses a header whose parameters were changed, so taking them from the header is as good as from Load.
        if (header.Kdf is { } kdf)
        {
            protection = protection.WithKdf(kdf);
        }
        return new KeyFileOpening(header, protection, share);
    }

    /// <summary>The share once opened, when the command no longer needs it; after a failure, nothing to dispose.</summary>
    public async Task DisposeShareAsync()
    {
        try
        {
            (await Share).Dispose();
        }
        catch (Exception) when (!Share.IsCompletedSuccessfully)
        {
            // The opening's failure was the command's to report (the refresh awaits it first).
        }
    }
}

/// <summary>The lock (<see cref="KeyFileLock"/>) a command that writes a key file holds from its start to its end.</summary>
internal static class KeyFileLocks
{
    /// <summary>
    /// The lock on an existing key file (refresh, handover, passphrase), taken before it is read: the share the command
    /// replaces is then the one any other command left. A missing file is refused first, so no lock file is made for a typo.
    /// </summary>
    public static KeyFileLock LockExisting(string path) => LockExisting(path, "key file", "--key");

    /// <summary>
    /// The same lock on an existing backup a command rewrites (passphrase --backup): two re-wraps at once would each
    /// read the old file, and the one that lands last would silently undo the other's new passphrase.
    /// </summary>
    public static KeyFileLock LockExistingBackup(string path) => LockExisting(path, "backup file", "--backup");

    private static KeyFileLock LockExisting(string path, string kind, string option) => File.Exists(path)
        ? KeyFileLock.Acquire(path)
        : throw CliException.LocalInput($"{kind} not found: {path}; check {option}");

    /// <summary>
    /// The lock on a key file the command is about to create (import, restore, enrol), once no file has that name:
    /// checked again under the lock, so no other mpc command makes one before this one ends.
    /// </summary>
    public static KeyFileLock LockNew(string path)
    {
        KeyFileLock held = KeyFileLock.Acquire(TransferCommands.RequireNew(path));
        try
        {
            TransferCommands.RequireNew(path);
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }
}

/// <summary>
/// The CLI's face of the SDK's crash-safe key file update (<see cref="PendingKeyFile"/>), under the key file's lock the
/// command holds: its notices go to stderr, and an unknown outcome becomes the CLI's exit code with the next step to take.
/// </summary>
internal static class PendingRefresh
{
    public static async Task<MpcKey> RunAsync(MpcSignerClient client, KeyFileLock held, string userId, KeyFileProtection protection,
        Func<PendingShareHandler, Task<MpcKey>> refresh, CancellationToken cancellationToken)
    {
        string finalPath = held.KeyFile;
        string pendingPath = PendingKeyFile.PendingPathOf(finalPath);
        // `mpc refresh` settles a pending share only beside a key file it can open: no hint to it for a file not made yet.
        bool keyFileExisted = File.Exists(finalPath);
        try
        {
            return await PendingKeyFile.UpdateLockedAsync(client, held, userId, protection, refresh, Console.Error.WriteLine, step: null, cancellationToken);
        }
        catch (MpcRefreshOutcomeUnknownException e)
        {
            e.PendingShare?.Dispose();
            string rerun = keyFileExisted ? $"run the command again (or mpc refresh --key {finalPath})" : "run the same command again";
            throw new CliException(File.Exists(pendingPath)
                ? $"{e.Message}; the new share is kept at {pendingPath}: {rerun} to settle which share the server holds"
                : $"{e.Message}; run the command again to settle it", CliExit.OutcomeUnknown);
        }
    }

    /// <summary>
    /// Settles a pending share an interrupted run left beside <paramref name="held"/>'s key file, before the command reads
    /// anything that may have expired since (an enrolment's request). Notices go to stderr.
    /// </summary>
    public static Task<MpcKey?> SettleEarlierRunAsync(MpcSignerClient client, KeyFileLock held, KeyFileProtection protection, CancellationToken cancellationToken) =>
        PendingKeyFile.RecoverLockedAsync(client, held, protection, Console.Error.WriteLine, cancellationToken);
}
