using Mpc.Grains.Sealing;

namespace Mpc.Grains.Tests.Sealing;

public sealed class ShareSealerTests : IDisposable
{
    private static readonly SealContext Context = new("user-1", "key-1", "server-share");

    private readonly TempDirectory _dir = new();
    private readonly FileKeyEncryptionKeyProvider _provider;
    private readonly ShareSealer _sealer;

    public ShareSealerTests()
    {
        _provider = new FileKeyEncryptionKeyProvider(_dir.Path);
        _sealer = new ShareSealer(_provider);
    }

    public void Dispose()
    {
        _provider.Dispose();
        _dir.Dispose();
    }

    // Distinctive, so a plaintext leak into the sealed blob would be found by a byte search.
    private static byte[] Secret() => Enumerable.Range(0, 32).Select(i => (byte)(0xA5 ^ (i * 7))).ToArray();

    [Fact]
    public async Task Round_trip()
    {
        byte[] sealedBlob = await _sealer.SealAsync(Secret(), Context, CancellationToken.None);
        Assert.Equal(Secret(), await _sealer.OpenAsync(sealedBlob, Context, CancellationToken.None));
    }

    [Fact]
    public async Task Empty_secret_round_trips()
    {
        byte[] sealedBlob = await _sealer.SealAsync(ReadOnlyMemory<byte>.Empty, Context, CancellationToken.None);
        Assert.Empty(await _sealer.OpenAsync(sealedBlob, Context, CancellationToken.None));
    }

    [Fact]
    public async Task Sealing_twice_gives_different_blobs()
    {
        byte[] a = await _sealer.SealAsync(Secret(), Context, CancellationToken.None);
        byte[] b = await _sealer.SealAsync(Secret(), Context, CancellationToken.None);
        Assert.NotEqual(a, b);
    }

    public static TheoryData<string, string, string> OtherContexts => new()
    {
        { "user-2", "key-1", "server-share" },
        { "user-1", "key-2", "server-share" },
        { "user-1", "key-1", "paillier-secret" },
        // Fields are length-prefixed in the associated data, so shifting a boundary is a different context.
        { "user-1k", "ey-1", "server-share" },
    };

    [Theory]
    [MemberData(nameof(OtherContexts))]
    public async Task Opening_with_another_context_fails(string userId, string keyId, string purpose)
    {
        byte[] sealedBlob = await _sealer.SealAsync(Secret(), Context, CancellationToken.None);
        await Assert.ThrowsAsync<SealedDataException>(
            async () => await _sealer.OpenAsync(sealedBlob, new SealContext(userId, keyId, purpose), CancellationToken.None));
    }

    [Fact]
    public async Task Flipping_any_byte_fails()
    {
        byte[] sealedBlob = await _sealer.SealAsync(Secret(), Context, CancellationToken.None);
        var positions = new HashSet<int> { 0, 3, 4, 7, 8, 20, sealedBlob.Length / 2, sealedBlob.Length - 20, sealedBlob.Length - 1 };
        for (int i = 0; i < sealedBlob.Length; i += 9)
        {
            positions.Add(i);
        }
        foreach (int position in positions)
        {
            byte[] tampered = (byte[])sealedBlob.Clone();
            tampered[position] ^= 0x80;
            var ex = await Assert.ThrowsAsync<SealedDataException>(
                async () => await _sealer.OpenAsync(tampered, Context, CancellationToken.None));
            Assert.DoesNotContain(Convert.ToHexString(Secret()), ex.ToString(), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Truncated_or_extended_blob_fails()
    {
        byte[] sealedBlob = await _sealer.SealAsync(Secret(), Context, CancellationToken.None);
        await Assert.ThrowsAsync<SealedDataException>(
            async () => await _sealer.OpenAsync(sealedBlob.AsMemory(0, sealedBlob.Length - 1), Context, CancellationToken.None));
        await Assert.ThrowsAsync<SealedDataException>(
            async () => await _sealer.OpenAsync(sealedBlob.Concat(new byte[] { 0 }).ToArray(), Context, CancellationToken.None));
        await Assert.ThrowsAsync<SealedDataException>(
            async () => await _sealer.OpenAsync(ReadOnlyMemory<byte>.Empty, Context, CancellationToken.None));
    }

    [Fact]
    public async Task Sealed_blob_does_not_contain_the_plaintext()
    {
        byte[] secret = Secret();
        byte[] sealedBlob = await _sealer.SealAsync(secret, Context, CancellationToken.None);
        Assert.Equal(-1, sealedBlob.AsSpan().IndexOf(secret));
        Assert.Equal(-1, sealedBlob.AsSpan().IndexOf(secret.AsSpan(0, 8)));
    }

    [Fact]
    public async Task Another_kek_cannot_open()
    {
        using var otherDir = new TempDirectory();
        using var otherProvider = new FileKeyEncryptionKeyProvider(otherDir.Path);
        byte[] sealedBlob = await _sealer.SealAsync(Secret(), Context, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<SealedDataException>(
            async () => await new ShareSealer(otherProvider).OpenAsync(sealedBlob, Context, CancellationToken.None));
        Assert.IsType<KeyEncryptionKeyException>(ex.InnerException);
    }

    [Fact]
    public async Task Rewrap_moves_the_blob_to_the_new_kek()
    {
        using var newDir = new TempDirectory();
        using var newProvider = new FileKeyEncryptionKeyProvider(newDir.Path);
        byte[] sealedBlob = await _sealer.SealAsync(Secret(), Context, CancellationToken.None);

        byte[] rewrapped = await _sealer.RewrapAsync(sealedBlob, newProvider, CancellationToken.None);

        Assert.Equal(Secret(), await new ShareSealer(newProvider).OpenAsync(rewrapped, Context, CancellationToken.None));
        await Assert.ThrowsAsync<SealedDataException>(
            async () => await _sealer.OpenAsync(rewrapped, Context, CancellationToken.None));
        // The context binding survives the rewrap.
        await Assert.ThrowsAsync<SealedDataException>(
            async () => await new ShareSealer(newProvider).OpenAsync(rewrapped, Context with { UserId = "user-2" }, CancellationToken.None));
    }

    [Fact]
    public async Task Rewrap_of_a_blob_from_an_unknown_kek_fails()
    {
        using var otherDir = new TempDirectory();
        using var otherProvider = new FileKeyEncryptionKeyProvider(otherDir.Path);
        byte[] foreign = await new ShareSealer(otherProvider).SealAsync(Secret(), Context, CancellationToken.None);
        await Assert.ThrowsAsync<SealedDataException>(
            async () => await _sealer.RewrapAsync(foreign, otherProvider, CancellationToken.None));
    }
}
