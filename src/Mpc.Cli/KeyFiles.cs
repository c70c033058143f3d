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
        // The clear header only decides whether to ask for a passphrase; everything kept comes from Load, which
        // returns the header only after checking it against the decrypted share.
        KeyFileProtection protection = ClientKeyFile.ReadPublicInfo(path).IsProtected
            ? KeyFileProtection.Passphrase(CommonOptions.KeyFilePassphrase(passphraseEnv))
            : unprotected ? KeyFileProtection.Unprotected()
            : throw CliException.LocalInput($"{path} is stored without a passphrase; pass {CommonOptions.UnprotectedOption} to use it anyway");
        if (derivedKeys is not null)
        {
            protection = protection.WithDerivedKeys(derivedKeys);
        }
        ClientKeyShare share = ClientKeyFile.Load(path, protection, MpcArithmetic.Default, out KeyFileInfo info);
        if (info.Kdf is { } kdf)
        {
            // A refresh re-saves under the file's own (possibly stronger than default) Argon2id parameters.
            protection = protection.WithKdf(kdf);
        }
        return new OpenedKeyFile(path, info, protection, share);
    }
}

/// <summary>
/// The CLI's face of the SDK's crash-safe key file update (<see cref="PendingKeyFile"/>): its notices go to stderr,
/// and an unknown outcome becomes the CLI's exit code with the next step to take.
/// </summary>
internal static class PendingRefresh
{
    public static async Task<MpcKey> RunAsync(MpcSignerClient client, string finalPath, string userId, KeyFileProtection protection,
        Func<PendingShareHandler, Task<MpcKey>> refresh)
    {
        string pendingPath = PendingKeyFile.PendingPathOf(finalPath);
        try
        {
            return await PendingKeyFile.UpdateAsync(client, finalPath, userId, protection, refresh, Console.Error.WriteLine);
        }
        catch (MpcRefreshOutcomeUnknownException e)
        {
            e.PendingShare?.Dispose();
            throw new CliException(File.Exists(pendingPath)
                ? $"{e.Message}; the new share is kept at {pendingPath}: run the command again (or mpc refresh --key {finalPath}) to settle which share the server holds"
                : $"{e.Message}; run the command again to settle it", CliExit.OutcomeUnknown);
        }
    }
}
