using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Sealing;
using Mpc.Protocol.Keys;
using Mpc.Server;

namespace Mpc.Server.Tests.Service;

/// <summary>A thief with a full copy of the server's data directory, but not the key-encryption key, gets nothing.</summary>
[Collection("server")]
public sealed class StolenDataDirectoryTests(ServerFixture server)
{
    private const string Victim = "theft-victim";

    [Fact]
    public async Task A_copy_of_the_data_directory_contains_no_share_in_clear_and_decrypts_nothing()
    {
        using MpcSignerClient client = server.Client(Victim);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        await client.SignDataAsync(key, "before the theft"u8.ToArray());

        var stolen = new TempDirectory("mpc-stolen-");
        string copy = stolen.Path;
        try
        {
            CopyDirectory(server.DataDirectory, copy);
            Assert.Empty(Directory.GetFiles(copy, FileKeyEncryptionKeyProvider.FileName, SearchOption.AllDirectories));

            // What the thief would look for: recovered here with the real master key, which the thief does not have.
            StoredKeys storedKeys = await StoredKeys.ReadAsync(copy, Victim);
            StoredDevice stored = storedKeys.Keys.Keys[key.KeyId].Devices["primary"];
            var context = new SealContext(Victim, key.KeyId, stored.SealPurpose);
            using var realMasterKey = new FileKeyEncryptionKeyProvider(server.MasterKeyDirectory);
            byte[] secret = await new ShareSealer(realMasterKey).OpenAsync(stored.SealedShare, context, CancellationToken.None);
            using ServerKeyShare share = ServerKeyShare.ImportSecret(secret, BigNumBackends.Default);

            byte[][] needles =
            [
                EcCurve.Get(CurveKind.P256).EncodeScalar(share.X1),
                share.Paillier.P.ToByteArrayUnsigned(),
                share.Paillier.Q.ToByteArrayUnsigned(),
                secret,
            ];
            foreach (string file in Directory.GetFiles(copy, "*", SearchOption.AllDirectories))
            {
                byte[] contents = await File.ReadAllBytesAsync(file);
                string text = System.Text.Encoding.Latin1.GetString(contents);
                foreach (byte[] needle in needles)
                {
                    Assert.False(contents.AsSpan().IndexOf(needle.AsSpan(0, 24)) >= 0, $"{Path.GetFileName(file)} holds a secret in binary");
                    Assert.DoesNotContain(Convert.ToHexString(needle)[..40], text, StringComparison.OrdinalIgnoreCase);
                    Assert.DoesNotContain(Convert.ToBase64String(needle)[..32], text, StringComparison.Ordinal);
                }
            }

            // Without the master key the sealed share does not open: a thief's own master key gets an error, not data.
            using var thiefDirectory = new TempDirectory("mpc-thief-kek-");
            using var thiefKey = new FileKeyEncryptionKeyProvider(thiefDirectory.Path);
            await Assert.ThrowsAsync<SealedDataException>(async () => await new ShareSealer(thiefKey).OpenAsync(stored.SealedShare, context, CancellationToken.None));
            CryptographicOperations.ZeroMemory(secret);
        }
        finally
        {
            stolen.Dispose();
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }
        // The running server's lock file is held with FileShare.None, which File.Copy respects; it is empty anyway.
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != DataDirectoryLock.FileName))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }
}
