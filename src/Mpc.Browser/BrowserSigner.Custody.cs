using System.Runtime.InteropServices.JavaScript;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Client.KeyStore;
using Mpc.Protocol.Keys;

namespace Mpc.Browser;

/// <summary>
/// Refresh, backup and restore from the browser (device enrolment: BrowserSigner.Enrolment.cs), through the SDK's flows and the SDK's backup format (the file
/// <c>mpc backup</c> writes and <c>mpc restore</c> reads, so a backup made here restores with the CLI and back).
/// </summary>
public static partial class BrowserSigner
{
    /// <summary>
    /// Replaces <paramref name="keyId"/>'s share pair with a fresh one (same public key). The new share is sealed as the
    /// key's pending record before the server switches (<see cref="BrowserVault"/>); the worker makes it the current
    /// record once this returns, or <see cref="SettlePending"/> does on the next open. JSON of the key.
    /// </summary>
    [JSExport]
    public static async Task<string> Refresh(string keyId)
    {
        MpcKey old = Session.Key(keyId);
        MpcKey refreshed = await Session.Client.RefreshKeyAsync(old, BrowserVault.StorePendingAsync).ConfigureAwait(false);
        Session.LoseReplyIfAskedForTest(refreshed);
        Session.Add(refreshed);
        return Describe(refreshed);
    }

    /// <summary>
    /// Settles a pending share left by an interrupted refresh, restore, enrolment or key generation (the worker unsealed it and hands it
    /// over, <see cref="BrowserSecrets.Take"/>): when the
    /// server holds it (<see cref="PendingKeyFile.ServerHoldsAsync"/>, the SDK's test for a pending key file) the share
    /// is opened and the JSON of the key returned; an empty string when the server never took it (the run stopped
    /// before the switch).
    /// </summary>
    [JSExport]
    public static async Task<string> SettlePending()
    {
        byte[] secret = BrowserSecrets.Take(); // before the first await: the worker zeroes its copy when this returns
        ClientKeyShare pending;
        try
        {
            pending = ClientShareSecret.Import(secret, BrowserSession.Arithmetic);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
        MpcKey? key;
        try
        {
            key = await SettledKey(pending).ConfigureAwait(false);
        }
        catch
        {
            pending.Dispose();
            throw;
        }
        if (key is null)
        {
            pending.Dispose();
            return "";
        }
        Session.Add(key);
        return Describe(key);
    }

    /// <summary>
    /// The key of <paramref name="pending"/> when the server holds that share, else null. A key the server does not know
    /// is a key generation's whose confirmation went unanswered (<see cref="CreateKey"/>): confirmed now if the server
    /// still awaits it (<see cref="MpcSignerClient.ConfirmKeyAsync"/>), null once it can no longer be stored.
    /// </summary>
    private static async Task<MpcKey?> SettledKey(ClientKeyShare pending)
    {
        try
        {
            return await PendingKeyFile.ServerHoldsAsync(Session.Client, pending).ConfigureAwait(false) ? Session.Client.OpenKey(pending) : null;
        }
        catch (MpcSignerException e) when (e.Status == Grpc.Core.StatusCode.NotFound)
        {
            try
            {
                return await Session.Client.ConfirmKeyAsync(pending).ConfigureAwait(false);
            }
            catch (MpcSignerException again) when (again.Status == Grpc.Core.StatusCode.NotFound)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Makes a backup share of <paramref name="keyId"/> and returns it wrapped under <paramref name="passphrase"/> in
    /// the SDK's backup format (<see cref="ClientShareBackup"/>: Argon2id, AES-256-GCM), naming <paramref name="userId"/>, as base64.
    /// The file is made before the server keeps its half (as <c>mpc backup</c> does), so a lost reply never leaves a
    /// server-side backup without its file. The server never receives the file.
    /// </summary>
    [JSExport]
    public static async Task<string> CreateBackup(string keyId, string userId, string passphrase, string label)
    {
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        MpcKey key = Session.Key(keyId);
        byte[]? file = null;
        using ClientKeyShare backup = await Session.Client.CreateBackupAsync(key, label, (share, _) =>
        {
            byte[] secret = share.ExportSecret();
            try
            {
                file = ClientShareBackup.Seal(secret,
                    new BackupIdentity(userId, share.KeyId, share.DeviceId, share.Curve, share.EncodedPublicKey, DateTimeOffset.UtcNow), passphrase);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(secret);
            }
            return ValueTask.CompletedTask;
        }).ConfigureAwait(false);
        // Base64: the generated interop marshals no Task of a byte array. The file holds no secret in clear.
        return Convert.ToBase64String(file ?? throw new InvalidOperationException("the backup was not written"));
    }

    /// <summary>
    /// Opens a backup file (from <see cref="CreateBackup"/> or <c>mpc backup</c>) with <paramref name="passphrase"/>, and
    /// restores it onto this browser: a refresh gives the browser its own share pair and the server destroys the
    /// backup's half (the file is used up). The worker seals the new share. JSON of the key, with the backup's user.
    /// </summary>
    [JSExport]
    public static async Task<string> RestoreBackup([JSMarshalAs<JSType.Array<JSType.Number>>] byte[] file, string passphrase, string label)
    {
        _ = Session.Device;
        byte[] secret = ClientShareBackup.Open(file, passphrase, out BackupIdentity identity);
        ClientKeyShare backup;
        try
        {
            backup = ClientShareSecret.Import(secret, BrowserSession.Arithmetic);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
        using (backup)
        {
            // Checked before the server is asked (as mpc restore does): once it switched, the pending share is the
            // key's, and the next settling would make it current whatever this check said afterwards.
            if (backup.KeyId != identity.KeyId || backup.DeviceId != identity.DeviceId || backup.Curve != identity.Curve
                || !backup.EncodedPublicKey.AsSpan().SequenceEqual(identity.PublicKey))
            {
                throw new MpcSignerException(MpcErrorReason.CorruptInput, "the backup's share does not match its header; the file is not usable");
            }
            MpcKey restored = await Session.Client.RestoreBackupAsync(backup, label, BrowserVault.StorePendingAsync).ConfigureAwait(false);
            Session.LoseReplyIfAskedForTest(restored);
            Session.Add(restored);
            return Describe(restored);
        }
    }
}
