using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Protocol.Keys;

namespace Mpc.Server.Tests.Custody;

/// <summary>A second handle on a key's client share, as a handover or an old copy of a key file would give one.</summary>
internal static class ShareCopies
{
    public static MpcKey Copy(MpcSignerClient client, MpcKey key)
    {
        byte[] exported = key.Share.ExportSecret();
        try
        {
            return client.OpenKey(ClientKeyShare.ImportSecret(exported, BigNumBackends.Default));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(exported);
        }
    }
}
