using System.CommandLine;
using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Crypto.BigNum;
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

    public static OpenedKeyFile Open(string path, string? passphraseEnv, bool unprotected)
    {
        // The clear header only decides whether to ask for a passphrase; everything kept comes from Load, which
        // returns the header only after checking it against the decrypted share.
        KeyFileProtection protection = ClientKeyFile.ReadPublicInfo(path).IsProtected
            ? CommonOptions.Protection(passphraseEnv, false, confirm: false)
            : unprotected ? KeyFileProtection.Unprotected() : throw new CliException("this key file is unprotected; pass --unprotected to use it");
        ClientKeyShare share = ClientKeyFile.Load(path, protection, BigNumBackends.Default, out KeyFileInfo info);
        if (info.Kdf is { } kdf)
        {
            // A refresh re-saves under the file's own (possibly stronger than default) Argon2id parameters.
            protection = protection.WithKdf(kdf);
        }
        return new OpenedKeyFile(path, info, protection, share);
    }
}

/// <summary>
/// Runs a refresh whose new share is saved to a pending file before the confirmation is sent. The pending file is
/// deleted only when the server's refusal proves it stored nothing; in every other case it is kept, because the
/// server may now hold only the new pair.
/// </summary>
internal static class PendingRefresh
{
    /// <param name="finalPath">The key file the new share ends up in; it waits in <c>finalPath.pending</c> until then.</param>
    /// <param name="userId">The user recorded in the key file.</param>
    /// <param name="protection">The key file's protection.</param>
    /// <param name="refresh">Runs the refresh with the handler that writes the pending file.</param>
    public static async Task<MpcKey> RunAsync(string finalPath, string userId, KeyFileProtection protection, Func<PendingShareHandler, Task<MpcKey>> refresh)
    {
        string pendingPath = finalPath + ".pending";
        if (File.Exists(pendingPath))
        {
            throw new CliException($"{pendingPath} exists from an earlier refresh that may have completed: try signing with it, then delete it or move it over {finalPath}");
        }
        MpcKey key;
        try
        {
            key = await refresh((share, _) =>
            {
                ClientKeyFile.Save(pendingPath, share, userId, protection);
                return ValueTask.CompletedTask;
            });
        }
        catch (MpcRefreshOutcomeUnknownException e)
        {
            e.PendingShare?.Dispose();
            throw new CliException(File.Exists(pendingPath)
                ? $"{e.Message}; the new share is kept at {pendingPath}: if {finalPath} is refused, use that one"
                : e.Message);
        }
        catch (MpcSignerException)
        {
            // A refusal that proves nothing was stored (the SDK wraps every other failure after the confirmation).
            File.Delete(pendingPath);
            throw;
        }
        try
        {
            File.Move(pendingPath, finalPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            key.Dispose();
            throw new CliException($"the refresh completed, but {finalPath} could not be replaced ({e.Message}): move {pendingPath} over it");
        }
        return key;
    }
}
