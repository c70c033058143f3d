using Mpc.Grains.Sealing;

namespace Mpc.Server.Tests.Hsm;

/// <summary>Sealed shares under the PKCS#11 master key, and master-key rotation inside the token.</summary>
[Collection("softhsm")]
public sealed class HsmSealingTests(SoftHsmFixture hsm)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static readonly SealContext Context = new("alice", "key-1", "server-key-share");

    private static byte[] Secret(int seed) => Enumerable.Range(0, 300).Select(i => unchecked((byte)(i * 7 + seed))).ToArray();

    [Fact]
    public async Task A_sealed_share_opens_only_with_the_token_present()
    {
        byte[] sealedBlob;
        using (var provider = new Pkcs11KeyEncryptionKeyProvider(hsm.Options()))
        {
            var sealer = new ShareSealer(provider);
            sealedBlob = await sealer.SealAsync(Secret(1), Context, None);
            Assert.Equal(provider.KeyId, ShareSealer.KekIdOf(sealedBlob));
            Assert.Equal(Secret(1), await sealer.OpenAsync(sealedBlob, Context, None));
            await Assert.ThrowsAsync<SealedDataException>(async () =>
                await sealer.OpenAsync(sealedBlob, Context with { KeyId = "key-2" }, None));
        }

        // The file provider has a master key of its own, not the token's.
        using (var directory = new TempDirectory())
        using (var file = new FileKeyEncryptionKeyProvider(directory.Path))
        {
            var ex = await Assert.ThrowsAsync<SealedDataException>(async () => await new ShareSealer(file).OpenAsync(sealedBlob, Context, None));
            Assert.IsType<KeyEncryptionKeyException>(ex.InnerException);
        }

        // Another token with a key of the same label is another key.
        using (var second = new Pkcs11KeyEncryptionKeyProvider(hsm.Options(SoftHsmFixture.SecondToken)))
        {
            Assert.NotEqual(ShareSealer.KekIdOf(sealedBlob), second.KeyId);
            var ex = await Assert.ThrowsAsync<SealedDataException>(async () => await new ShareSealer(second).OpenAsync(sealedBlob, Context, None));
            Assert.Contains("not a key of PKCS#11 token 'mpc-test-2'", ex.InnerException!.Message);
        }

        // The token again (a fresh library load, a new login): it opens.
        using (var again = new Pkcs11KeyEncryptionKeyProvider(hsm.Options(create: false)))
        {
            Assert.Equal(Secret(1), await new ShareSealer(again).OpenAsync(sealedBlob, Context, None));
        }
    }

    [Fact]
    public async Task Rotation_moves_sealed_blobs_to_a_new_key_and_the_old_key_still_opens_older_blobs()
    {
        string oldLabel = "rotation-old-" + Guid.NewGuid().ToString("N")[..8];
        string newLabel = "rotation-new-" + Guid.NewGuid().ToString("N")[..8];
        using var oldProvider = new Pkcs11KeyEncryptionKeyProvider(hsm.Options(keyLabel: oldLabel));
        var blobs = new List<byte[]>();
        for (int i = 0; i < 3; i++)
        {
            blobs.Add(await new ShareSealer(oldProvider).SealAsync(Secret(i), Context with { KeyId = $"key-{i}" }, None));
        }

        // The new master key: a new object with its own label and CKA_ID, hence a new KeyId.
        using var newProvider = new Pkcs11KeyEncryptionKeyProvider(hsm.Options(keyLabel: newLabel));
        Assert.NotEqual(oldProvider.KeyId, newProvider.KeyId);
        Assert.Contains("/" + newLabel + "/", newProvider.KeyId);

        var rotation = new MasterKeyRotation(oldProvider, newProvider);
        var rotated = new List<byte[]>();
        await foreach (byte[] blob in rotation.RewrapAllAsync(blobs.Take(2), None))
        {
            rotated.Add(blob);
        }
        Assert.Equal(2, rotated.Count);

        var newSealer = new ShareSealer(newProvider);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(newProvider.KeyId, ShareSealer.KekIdOf(rotated[i]));
            // The share itself is untouched: nonce, ciphertext and tag are the same trailing bytes.
            int tail = 4 + 12 + 4 + 300 + 4 + 16;
            Assert.Equal(blobs[i].AsSpan(blobs[i].Length - tail).ToArray(), rotated[i].AsSpan(rotated[i].Length - tail).ToArray());
            Assert.Equal(Secret(i), await newSealer.OpenAsync(rotated[i], Context with { KeyId = $"key-{i}" }, None));
        }

        // Running the rotation again leaves rotated blobs as they are.
        Assert.Same(rotated[0], await rotation.RewrapAsync(rotated[0], None));

        // The new provider still opens a blob not yet rotated, through the old key that is still in the token.
        Assert.Equal(oldProvider.KeyId, ShareSealer.KekIdOf(blobs[2]));
        Assert.Equal(Secret(2), await newSealer.OpenAsync(blobs[2], Context with { KeyId = "key-2" }, None));

        // Another token with a key of the same label does not open the rotated blobs.
        using var elsewhere = new Pkcs11KeyEncryptionKeyProvider(hsm.Options(SoftHsmFixture.SecondToken, keyLabel: newLabel));
        await Assert.ThrowsAsync<SealedDataException>(async () => await new ShareSealer(elsewhere).OpenAsync(rotated[0], Context with { KeyId = "key-0" }, None));
    }

    [Fact]
    public async Task Rotation_from_the_file_master_key_into_the_token()
    {
        using var directory = new TempDirectory();
        using var file = new FileKeyEncryptionKeyProvider(directory.Path);
        byte[] sealedBlob = await new ShareSealer(file).SealAsync(Secret(9), Context, None);

        using var hsmProvider = new Pkcs11KeyEncryptionKeyProvider(hsm.Options());
        byte[] moved = await new MasterKeyRotation(file, hsmProvider).RewrapAsync(sealedBlob, None);

        Assert.Equal(hsmProvider.KeyId, ShareSealer.KekIdOf(moved));
        Assert.Equal(Secret(9), await new ShareSealer(hsmProvider).OpenAsync(moved, Context, None));
        await Assert.ThrowsAsync<SealedDataException>(async () => await new ShareSealer(file).OpenAsync(moved, Context, None));
    }

    [Fact]
    public async Task Rotation_without_the_old_key_fails_and_names_it()
    {
        using var directory = new TempDirectory();
        using var file = new FileKeyEncryptionKeyProvider(directory.Path);
        byte[] sealedBlob = await new ShareSealer(file).SealAsync(Secret(3), Context, None);
        using var hsmProvider = new Pkcs11KeyEncryptionKeyProvider(hsm.Options());

        var ex = await Assert.ThrowsAsync<SealedDataException>(async () => await new MasterKeyRotation(hsmProvider, hsmProvider).RewrapAsync(sealedBlob, None));
        Assert.Contains(file.KeyId, ex.Message);
    }
}
