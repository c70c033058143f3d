using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Cli;

/// <summary>
/// `mpc keygen`'s guard against a key stored on the server with no client share: the checked share is sealed into
/// <c>OUT.unconfirmed</c> (a durable write) before the server is asked to store the key, so a kill, a crash or a lost
/// confirmation reply after that point leaves the share on disk. Running the same command again settles it before
/// anything else: a key the server holds (or still awaits) is confirmed and its file becomes OUT; one the server can
/// no longer store is removed, and a new key is made; one whose key id the server holds with another public key is
/// set aside (<see cref="PendingKeyFile.UnconfirmedPathOf"/>, never deleted) with the error, so the next run is not blocked.
/// </summary>
internal sealed class UnconfirmedKeyFile(string outPath, string user, KeyFileProtection protection)
{
    private const string Suffix = ".unconfirmed";

    public string Path { get; } = outPath + Suffix;

    /// <summary>Time spent writing this run's key files: the seal before the confirmation and the move to OUT (for --verbose).</summary>
    public TimeSpan Writing { get; private set; }

    /// <summary>The key of a file left by an earlier run, confirmed; null when there is none or the server can no longer store it.</summary>
    /// <exception cref="CliException">The file is another user's or curve's (kept), or the server holds another public key under its key id (set aside).</exception>
    public async Task<MpcKey?> SettleAsync(MpcSignerClient client, CurveKind curve, CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return null;
        }
        ClientKeyShare share = ClientKeyFile.Load(Path, protection, MpcArithmetic.Default, out KeyFileInfo info);
        try
        {
            if (info.UserId != user || info.Curve != curve)
            {
                throw CliException.LocalInput(info.UserId != user
                    ? $"{Path} holds a key of user '{info.UserId}', not of this token's user '{user}': settle it with that user's token"
                    : $"{Path} holds a {EcCurve.NameOf(info.Curve)} key from an earlier run, not {EcCurve.NameOf(curve)}: settle it with --curve {EcCurve.NameOf(info.Curve)}, or move it away");
            }
            MpcKey key = await client.ConfirmKeyAsync(share, cancellationToken);
            Console.Error.WriteLine($"Key {info.KeyId} from an earlier run is stored on the server: settled.");
            return key;
        }
        catch (MpcSignerException e) when (e.Reason == MpcErrorReason.NotFound)
        {
            share.Dispose();
            SecretFile.Delete(Path);
            Console.Error.WriteLine($"The server does not hold key {info.KeyId} from an earlier run and can no longer store it (its key generation expired unconfirmed): removed {Path}; creating a new key.");
            return null;
        }
        catch (MpcSignerException e) when (e is { Reason: MpcErrorReason.SignatureCheckFailed, Status: null })
        {
            // The server reports another public key under this key id (ConfirmKeyAsync's own check): the file would fail
            // the same way on every run. It holds a share, and the server's answer may be the fault, so it is set aside
            // under a name never reused, not deleted.
            string aside = PendingKeyFile.UnconfirmedPathOf(outPath, share);
            share.Dispose();
            aside = PendingKeyFile.MoveAside(Path, aside);
            throw new CliException($"the server reports another public key for key {info.KeyId} than the share from an earlier run: {Path} is moved to {aside} (kept, never settled); run the same command again to create a new key");
        }
        catch
        {
            share.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A new key, its share sealed into <see cref="Path"/> before the server is asked to store it; when the confirmation
    /// goes unanswered the command ends with OutcomeUnknown and the file settles the key on the next run. A refusal
    /// after the file was written proves the key was not stored (or not as this share's), so the file goes with it.
    /// </summary>
    public async Task<MpcKey> CreateAsync(MpcSignerClient client, CurveKind curve, CancellationToken cancellationToken)
    {
        bool saved = false;
        try
        {
            return await client.CreateKeyAsync(curve, (share, _) =>
            {
                Timed(() => ClientKeyFile.Save(Path, share, user, protection));
                saved = true;
                return ValueTask.CompletedTask;
            }, cancellationToken);
        }
        catch (MpcKeyGenOutcomeUnknownException e)
        {
            e.PendingShare?.Dispose();
            throw new CliException($"{e.Message}; its share is kept in {Path}: run the same command again to settle it", CliExit.OutcomeUnknown);
        }
        catch when (saved)
        {
            SecretFile.Delete(Path);
            throw;
        }
    }

    /// <summary>
    /// The stored key's file: <see cref="Path"/> renamed to OUT (it holds the same share, sealed the same way), or, when
    /// nothing was written there (a server that stores the key without a confirmation), the share saved anew. Durable
    /// before this returns; an OUT that appeared meanwhile is never replaced.
    /// </summary>
    public void Keep(MpcKey key) => Timed(() =>
    {
        if (!File.Exists(Path))
        {
            ClientKeyFile.Save(Path, key.Share, user, protection);
        }
        if (!SecretFile.MoveNew(Path, outPath))
        {
            throw CliException.LocalInput($"{outPath} appeared while the key was made and is left as it is; the new key's share is in {Path}: rename it to a free name");
        }
    });

    private void Timed(Action write)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            write();
        }
        finally
        {
            Writing += System.Diagnostics.Stopwatch.GetElapsedTime(start);
        }
    }
}
