using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.Curves;

namespace Mpc.Testing;

/// <summary>What the fuzz tests check of a key after the server refused mutants: nothing about it changed.</summary>
public static class StoredKeyAssert
{
    /// <summary>The server's key is not frozen, has <paramref name="key"/>'s public key, and signs with its share (a signature an independent verifier accepts).</summary>
    public static async Task SignsAsBefore(MpcSignerClient client, MpcKey key)
    {
        MpcKeyInfo info = await client.GetKeyAsync(key.KeyId);
        Assert.False(info.Frozen);
        Assert.Equal(key.SubjectPublicKeyInfo, info.SubjectPublicKeyInfo);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        MpcSignature signature = await client.SignDigestAsync(key, digest);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(key.Curve, key.SubjectPublicKeyInfo, digest, signature));
    }
}
