using System.CommandLine;
using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Crypto.BigNum;
using Mpc.Protocol.Keys;

namespace Mpc.Cli;

/// <summary>
/// A key file opened for a command that may write its successor (refresh, restore): the protection the user
/// chose is reused, and the successor is written beside the file before the server switches over.
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

    /// <summary>Where a refresh's new share waits until the server has switched to it.</summary>
    public string PendingPath => Path + ".pending";

    public static OpenedKeyFile Open(string path, string? passphrase, string? passphraseEnv, bool unprotected)
    {
        KeyFileInfo info = ClientKeyFile.ReadPublicInfo(path);
        KeyFileProtection protection = info.IsProtected
            ? CommonOptions.Protection(passphrase, passphraseEnv, false, confirm: false)
            : unprotected ? KeyFileProtection.Unprotected() : throw new CliException("this key file is unprotected; pass --unprotected to use it");
        ClientKeyShare share = ClientKeyFile.Load(path, protection, BigNumBackends.Default);
        return new OpenedKeyFile(path, info, protection, share);
    }

    /// <summary>The handler that writes a refresh's new share to <see cref="PendingPath"/> before it is confirmed.</summary>
    public PendingShareHandler SavePendingTo(string pendingPath, KeyFileProtection protection) => (share, _) =>
    {
        ClientKeyFile.Save(pendingPath, share, Info.UserId, protection);
        return ValueTask.CompletedTask;
    };
}

/// <summary>
/// Runs a refresh whose new share is saved to a pending file before the confirmation is sent. The pending file is
/// deleted only when the server's refusal proves it stored nothing; in every other case it is kept, because the
/// server may now hold only the new pair.
/// </summary>
internal static class PendingRefresh
{
    public static async Task<MpcKey> RunAsync(string pendingPath, string finalPath, Func<Task<MpcKey>> refresh)
    {
        if (File.Exists(pendingPath))
        {
            throw new CliException($"{pendingPath} exists from an earlier refresh that may have completed: try signing with it, then delete it or move it over {finalPath}");
        }
        MpcKey key;
        try
        {
            key = await refresh();
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
