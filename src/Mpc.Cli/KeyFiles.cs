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
            ? KeyFileProtection.Passphrase(CommonOptions.KeyFilePassphrase(passphraseEnv))
            : unprotected ? KeyFileProtection.Unprotected()
            : throw CliException.LocalInput($"{path} is stored without a passphrase; pass {CommonOptions.UnprotectedOption} to use it anyway");
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
/// Runs a refresh (or enrolment, restore, import) whose new share is saved, durably, to <c>FILE.pending</c> before the
/// confirmation is sent, then moved over <c>FILE</c>. A pending file left by an interrupted run (a crash, a power cut,
/// a lost reply) is resolved first by asking the server which share it holds (<see cref="RecoverAsync"/>).
/// </summary>
internal static class PendingRefresh
{
    /// <summary>The named points between writes, for tests that stop a run there (<see cref="RunAsync"/>'s <c>step</c>).</summary>
    public const string PendingWritten = "pending-written";
    public const string FinalReplaced = "final-replaced";

    /// <param name="client">The server connection (to resolve a pending file left by an earlier run).</param>
    /// <param name="finalPath">The key file the new share ends up in; it waits in <c>finalPath.pending</c> until then.</param>
    /// <param name="userId">The user recorded in the key file.</param>
    /// <param name="protection">The key file's protection (with its own Argon2id parameters).</param>
    /// <param name="refresh">Runs the refresh with the handler that writes the pending file.</param>
    /// <param name="step">Called after each durable write (tests stop the run there); null in production.</param>
    /// <param name="cancellationToken">Cancels the recovery of an earlier run's pending file.</param>
    /// <returns>The new key; or, when an earlier interrupted run had already completed, that run's key.</returns>
    public static async Task<MpcKey> RunAsync(MpcSignerClient client, string finalPath, string userId, KeyFileProtection protection,
        Func<PendingShareHandler, Task<MpcKey>> refresh, Action<string>? step = null, CancellationToken cancellationToken = default)
    {
        string pendingPath = finalPath + ".pending";
        if (await RecoverAsync(client, finalPath, protection, cancellationToken) is { } completedEarlier)
        {
            Console.Error.WriteLine($"An earlier interrupted run had completed: {finalPath} now holds the share the server expects.");
            return completedEarlier;
        }
        MpcKey key;
        try
        {
            key = await refresh((share, _) =>
            {
                ClientKeyFile.Save(pendingPath, share, userId, protection);
                step?.Invoke(PendingWritten);
                return ValueTask.CompletedTask;
            });
        }
        catch (MpcRefreshOutcomeUnknownException e)
        {
            e.PendingShare?.Dispose();
            throw new CliException(File.Exists(pendingPath)
                ? $"{e.Message}; the new share is kept at {pendingPath}: run the command again (or mpc refresh --key {finalPath}) to settle which share the server holds"
                : $"{e.Message}; run the command again to settle it", CliExit.OutcomeUnknown);
        }
        catch (MpcSignerException)
        {
            // A refusal that proves nothing was stored (the SDK wraps every other failure after the confirmation).
            if (File.Exists(pendingPath))
            {
                SecretFile.Delete(pendingPath);
            }
            throw;
        }
        try
        {
            SecretFile.Replace(pendingPath, finalPath);
            step?.Invoke(FinalReplaced);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            key.Dispose();
            throw CliException.LocalInput($"the refresh completed, but {finalPath} could not be replaced ({e.Message}): move {pendingPath} over it");
        }
        return key;
    }

    /// <summary>
    /// Settles a <c>finalPath.pending</c> left by an interrupted run: the server's device list says which share
    /// (by share id) each device holds. The pending share, if the server holds it, replaces the key file and is
    /// returned. If the server holds the key file's share instead (or does not know the pending device: the run
    /// stopped before the confirmation), the pending file is moved aside to <c>.pending.unconfirmed</c>, never deleted,
    /// in case a confirmation still in flight lands later. Null when there was nothing to settle or the pending share
    /// is not the server's.
    /// </summary>
    public static async Task<MpcKey?> RecoverAsync(MpcSignerClient client, string finalPath, KeyFileProtection protection, CancellationToken cancellationToken)
    {
        string pendingPath = finalPath + ".pending";
        if (!File.Exists(pendingPath))
        {
            return null;
        }
        ClientKeyShare pending = ClientKeyFile.Load(pendingPath, protection, BigNumBackends.Default);
        try
        {
            IReadOnlyList<MpcDeviceInfo> devices = await client.ListDevicesAsync(pending.KeyId, cancellationToken);
            MpcDeviceInfo? device = devices.FirstOrDefault(d => d.DeviceId == pending.DeviceId && !d.Revoked);
            if (device is not null && device.ShareId == Convert.ToHexStringLower(pending.ShareId))
            {
                SecretFile.Replace(pendingPath, finalPath);
                MpcKey recovered = client.OpenKey(pending);
                pending = null!;
                return recovered;
            }
        }
        finally
        {
            pending?.Dispose();
        }
        string aside = pendingPath + ".unconfirmed";
        SecretFile.Replace(pendingPath, aside);
        Console.Error.WriteLine($"The server never took the share in {pendingPath} (the earlier run stopped before its confirmation); it is moved to {aside}: delete it once this run succeeds.");
        return null;
    }
}
