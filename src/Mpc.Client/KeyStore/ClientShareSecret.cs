using Mpc.Crypto;
using Mpc.Protocol.Keys;

namespace Mpc.Client.KeyStore;

/// <summary>
/// A share from its secret bytes (<see cref="ClientKeyShare.ExportSecret"/>'s format: a backup opened with
/// <c>ClientShareBackup.Open</c>, a browser vault entry), for callers that keep the bytes themselves
/// rather than in a <see cref="ClientKeyFile"/>.
/// </summary>
public static class ClientShareSecret
{
    /// <summary>Parses and checks <paramref name="secret"/>; the caller disposes the share and zeroes the bytes.</summary>
    /// <exception cref="MpcSignerException"><see cref="MpcErrorReason.CorruptInput"/>: the bytes do not parse as a share.</exception>
    public static ClientKeyShare Import(ReadOnlySpan<byte> secret, MpcArithmetic? arithmetic = null)
    {
        try
        {
            return ClientKeyShare.ImportSecret(secret, (arithmetic ?? MpcArithmetic.Default).Backend);
        }
        catch (MpcProtocolException e)
        {
            throw new MpcSignerException(MpcErrorReason.CorruptInput, $"the share does not parse ({e.Message.TrimEnd('.')})", e);
        }
    }
}
