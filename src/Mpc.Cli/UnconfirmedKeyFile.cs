using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Cli;

/// <summary>
/// `mpc keygen`'s answer to a key generation whose confirmation went unanswered (<see cref="MpcKeyGenOutcomeUnknownException"/>):
/// the server may hold the key, and the checked share is the only one that can sign with it, so it is sealed into
/// <c>OUT.unconfirmed</c> instead of being dropped. Running the same command again settles it before anything else:
/// a key the server holds (or still awaits) is confirmed and its file becomes OUT; one the server can no longer store
/// is removed, and a new key is made.
/// </summary>
internal sealed class UnconfirmedKeyFile(string outPath, string user, KeyFileProtection protection)
{
    private const string Suffix = ".unconfirmed";

    public string Path { get; } = outPath + Suffix;

    /// <summary>The key of a file left by an earlier run, confirmed; null when there is none or the server can no longer store it.</summary>
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
        catch
        {
            share.Dispose();
            throw;
        }
    }

    /// <summary>A new key; when its confirmation goes unanswered, its share is sealed into <see cref="Path"/> and the command ends with OutcomeUnknown.</summary>
    public async Task<MpcKey> CreateAsync(MpcSignerClient client, CurveKind curve, CancellationToken cancellationToken)
    {
        try
        {
            return await client.CreateKeyAsync(curve, cancellationToken);
        }
        catch (MpcKeyGenOutcomeUnknownException e) when (e.PendingShare is not null)
        {
            using ClientKeyShare share = e.PendingShare;
            ClientKeyFile.Save(Path, share, user, protection);
            throw new CliException($"{e.Message}; its share is kept in {Path}: run the same command again to settle it", CliExit.OutcomeUnknown);
        }
    }

    /// <summary>After the key file is written: the unconfirmed copy (if this run settled one) is no longer needed.</summary>
    public void Remove()
    {
        if (File.Exists(Path))
        {
            SecretFile.Delete(Path);
        }
    }
}
