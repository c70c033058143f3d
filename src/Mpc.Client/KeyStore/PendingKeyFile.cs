using Mpc.Protocol.Keys;

namespace Mpc.Client.KeyStore;

/// <summary>
/// Crash-safe replacement of a key file by a refresh (or its creation by an enrolment, restore or import): the new
/// share is saved, durably, to <c>FILE.pending</c> before the server is asked to confirm it, then moved over
/// <c>FILE</c> (or, when there is no <c>FILE</c> yet, to that name only if it is still free). A pending file left by an
/// interrupted run (a crash, a power cut, a lost reply) is settled first by asking the server which share it holds
/// (<see cref="RecoverAsync"/>). Whatever stops the process, one of the files holds the share the server expects, and
/// nothing is deleted that the server might still hold. All of it runs under the key file's <see cref="KeyFileLock"/>.
/// </summary>
public static class PendingKeyFile
{
    /// <summary>The named points between writes, for tests that stop a run there.</summary>
    internal const string PendingWritten = "pending-written";
    internal const string FinalReplaced = "final-replaced";

    /// <summary>Where <paramref name="keyFile"/>'s successor waits until the server has confirmed it.</summary>
    public static string PendingPathOf(string keyFile) => keyFile + ".pending";

    /// <summary>
    /// Where a pending file the server never took is moved aside: <c>FILE.pending.unconfirmed.SHAREID</c>, named by the
    /// first 16 hex digits of its share id so that one set aside earlier is never replaced (and never deleted: a
    /// confirmation may still be in flight).
    /// </summary>
    public static string UnconfirmedPathOf(string keyFile, ClientKeyShare share)
    {
        ArgumentNullException.ThrowIfNull(share);
        return $"{PendingPathOf(keyFile)}.unconfirmed.{Convert.ToHexStringLower(share.ShareId)[..16]}";
    }

    /// <summary>
    /// Takes <paramref name="keyFile"/>'s <see cref="KeyFileLock"/>, settles an earlier interrupted run
    /// (<see cref="RecoverAsync"/>), then runs <paramref name="refresh"/> with a handler that writes the pending file,
    /// and moves it over <paramref name="keyFile"/> once the server has confirmed (to a key file that does not exist
    /// yet, only while the name is free).
    /// </summary>
    /// <param name="client">The server connection (also used to settle a pending file left by an earlier run).</param>
    /// <param name="keyFile">The key file the new share ends up in.</param>
    /// <param name="userId">The user recorded in the key file.</param>
    /// <param name="protection">The key file's protection (with its own Argon2id parameters).</param>
    /// <param name="refresh">Runs the operation with the handler that writes the pending file (pass it as <c>savePending</c>).</param>
    /// <param name="notice">Told, in one line, when an earlier run is settled (the CLI prints it). Null: silent.</param>
    /// <param name="cancellationToken">Cancels the settling of an earlier run's pending file.</param>
    /// <returns>The new key; or, when an earlier interrupted run had already completed, that run's key.</returns>
    /// <exception cref="MpcSignerException">
    /// <see cref="MpcErrorReason.KeyFileInUse"/>: another command or program is updating the same key file; nothing was done.
    /// </exception>
    /// <exception cref="MpcRefreshOutcomeUnknownException">
    /// The confirmation's outcome is unknown: the pending file (if written) is kept; run again to settle it.
    /// </exception>
    /// <exception cref="IOException">The server took the new share, but the key file could not be written: the message says where the share is.</exception>
    public static async Task<MpcKey> UpdateAsync(IMpcSignerClient client, string keyFile, string userId, KeyFileProtection protection,
        Func<PendingShareHandler, Task<MpcKey>> refresh, Action<string>? notice = null, CancellationToken cancellationToken = default)
    {
        using KeyFileLock held = KeyFileLock.Acquire(keyFile);
        return await UpdateLockedAsync(client, held, userId, protection, refresh, notice, step: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The update, under a lock the caller already holds (the CLI holds it for the whole command), with
    /// <paramref name="step"/> called after each durable write (tests stop the run there).
    /// </summary>
    internal static async Task<MpcKey> UpdateLockedAsync(IMpcSignerClient client, KeyFileLock held, string userId, KeyFileProtection protection,
        Func<PendingShareHandler, Task<MpcKey>> refresh, Action<string>? notice, Action<string>? step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(held);
        ArgumentNullException.ThrowIfNull(refresh);
        string keyFile = held.KeyFile;
        string pendingPath = PendingPathOf(keyFile);
        if (await RecoverLockedAsync(client, held, protection, notice, cancellationToken).ConfigureAwait(false) is { } completedEarlier)
        {
            notice?.Invoke($"An earlier interrupted run had completed: {keyFile} now holds the share the server expects.");
            return completedEarlier;
        }
        // Decided before the server is asked: a key file that appears meanwhile (written by something that does not
        // take the lock) is another key's, and is never replaced.
        bool replacing = File.Exists(keyFile);
        MpcKey key;
        try
        {
            key = await refresh((share, _) =>
            {
                ClientKeyFile.Save(pendingPath, share, userId, protection);
                step?.Invoke(PendingWritten);
                return ValueTask.CompletedTask;
            }).ConfigureAwait(false);
        }
        catch (MpcRefreshOutcomeUnknownException)
        {
            // The server may hold the pending share: keep it for the next run's RecoverAsync.
            throw;
        }
        catch (MpcSignerException)
        {
            // A refusal that proves nothing was stored (the SDK wraps every other failure after the confirmation). The
            // lock makes the pending file this run's own.
            if (File.Exists(pendingPath))
            {
                SecretFile.Delete(pendingPath);
            }
            throw;
        }
        try
        {
            Place(pendingPath, keyFile, replacing);
            step?.Invoke(FinalReplaced);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            key.Dispose();
            throw new IOException(replacing
                ? $"The refresh completed, but {keyFile} could not be replaced ({e.Message.TrimEnd('.')}): move {pendingPath} over it."
                : $"The server took the new share, but {keyFile} could not be written ({e.Message.TrimEnd('.')}); the share is in {pendingPath}: rename it to a free name.", e);
        }
        return key;
    }

    /// <summary>
    /// Takes <paramref name="keyFile"/>'s <see cref="KeyFileLock"/> and settles a <c>keyFile.pending</c> left by an
    /// interrupted run: the server's device list says which share (by share id) each device holds. The pending share,
    /// if the server holds it, replaces the key file (or becomes it, when there is none yet) and is returned. If the
    /// server holds the key file's share instead, does not know the pending device (the run stopped before the
    /// confirmation), or, when there is no key file yet, does not know the pending share's key at all (an import that
    /// never completed), the pending file is moved aside to <see cref="UnconfirmedPathOf"/>, never deleted, in case a
    /// confirmation still in flight lands later. Null when there was nothing to settle or the pending share is not the server's.
    /// </summary>
    /// <exception cref="MpcSignerException"><see cref="MpcErrorReason.KeyFileInUse"/>: another command or program is updating the same key file.</exception>
    public static async Task<MpcKey?> RecoverAsync(IMpcSignerClient client, string keyFile, KeyFileProtection protection,
        Action<string>? notice = null, CancellationToken cancellationToken = default)
    {
        using KeyFileLock held = KeyFileLock.Acquire(keyFile);
        return await RecoverLockedAsync(client, held, protection, notice, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The settling, under a lock the caller already holds.</summary>
    internal static async Task<MpcKey?> RecoverLockedAsync(IMpcSignerClient client, KeyFileLock held, KeyFileProtection protection,
        Action<string>? notice, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(held);
        string keyFile = held.KeyFile;
        string pendingPath = PendingPathOf(keyFile);
        if (!File.Exists(pendingPath))
        {
            return null;
        }
        bool replacing = File.Exists(keyFile);
        ClientKeyShare? pending = ClientKeyFile.Load(pendingPath, protection);
        string aside = UnconfirmedPathOf(keyFile, pending);
        try
        {
            if (await ServerHoldsAsync(client, pending, unknownKeyIsNotHeld: !replacing, cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    Place(pendingPath, keyFile, replacing);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new IOException($"The server holds the share in {pendingPath}, but {keyFile} could not be written ({e.Message.TrimEnd('.')}): " +
                        (replacing ? "move it over the key file." : "rename it to a free name."), e);
                }
                MpcKey recovered = client.OpenKey(pending);
                pending = null;
                return recovered;
            }
        }
        finally
        {
            pending?.Dispose();
        }
        aside = MoveAside(pendingPath, aside);
        notice?.Invoke($"The server never took the share in {pendingPath} (the earlier run stopped before its confirmation); it is moved to {aside}: delete it once this run succeeds.");
        return null;
    }

    /// <summary>
    /// Whether the server's device list names <paramref name="share"/> (its device, not revoked, and its share id) as
    /// the share it holds: how a pending share left by an interrupted run is settled, in a file (<see cref="RecoverAsync"/>)
    /// or in any other store (the browser's IndexedDB).
    /// </summary>
    public static Task<bool> ServerHoldsAsync(IMpcSignerClient client, ClientKeyShare share, CancellationToken cancellationToken = default) =>
        ServerHoldsAsync(client, share, unknownKeyIsNotHeld: false, cancellationToken);

    /// <summary>
    /// As the public form; with <paramref name="unknownKeyIsNotHeld"/>, a key the server does not know is an answer
    /// (not held) rather than a failure: for a pending share that was to create the key file, an import's, whose key
    /// the server stores only when the import completes.
    /// </summary>
    private static async Task<bool> ServerHoldsAsync(IMpcSignerClient client, ClientKeyShare share, bool unknownKeyIsNotHeld, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(share);
        IReadOnlyList<MpcDeviceInfo> devices;
        try
        {
            devices = await client.ListDevicesAsync(share.KeyId, cancellationToken).ConfigureAwait(false);
        }
        catch (MpcSignerException e) when (unknownKeyIsNotHeld && e.Reason == MpcErrorReason.NotFound)
        {
            return false;
        }
        MpcDeviceInfo? device = devices.FirstOrDefault(d => d.DeviceId == share.DeviceId && !d.Revoked);
        return device is not null && device.ShareId == Convert.ToHexStringLower(share.ShareId);
    }

    /// <summary>Over an existing key file when <paramref name="replacing"/>; otherwise only to a free name.</summary>
    private static void Place(string pendingPath, string keyFile, bool replacing)
    {
        if (replacing)
        {
            SecretFile.Replace(pendingPath, keyFile);
        }
        else if (!SecretFile.MoveNew(pendingPath, keyFile))
        {
            throw new IOException($"{keyFile} appeared meanwhile and is left as it is");
        }
    }

    /// <summary>
    /// To <paramref name="aside"/>, or, if a file of that name is there already, to the first free <c>aside.N</c>: never
    /// over another. Also how <c>mpc keygen</c> sets aside an unconfirmed key file that can never settle.
    /// </summary>
    internal static string MoveAside(string pendingPath, string aside)
    {
        for (int attempt = 1; ; attempt++)
        {
            string name = attempt == 1 ? aside : $"{aside}.{attempt}";
            if (SecretFile.MoveNew(pendingPath, name))
            {
                return name;
            }
        }
    }
}
