using System.Runtime.InteropServices;
using Mpc.Grains.Sealing;

namespace Mpc.Grains.Tests.Sealing;

public sealed class FileKeyEncryptionKeyProviderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] DataKey() => Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Master_key_file_is_created_owner_only_on_first_use()
    {
        using var provider = new FileKeyEncryptionKeyProvider(_dir.Path);
        string path = Path.Combine(_dir.Path, FileKeyEncryptionKeyProvider.FileName);
        Assert.False(File.Exists(path));

        Assert.StartsWith("file:", provider.KeyId);
        Assert.Equal("file:".Length + 16, provider.KeyId.Length);
        Assert.Equal(32, new FileInfo(path).Length);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public async Task Second_instance_reads_the_same_key()
    {
        using var first = new FileKeyEncryptionKeyProvider(_dir.Path);
        byte[] wrapped = await first.WrapAsync(DataKey(), CancellationToken.None);

        using var second = new FileKeyEncryptionKeyProvider(_dir.Path);
        Assert.Equal(first.KeyId, second.KeyId);
        Assert.Equal(DataKey(), await second.UnwrapAsync(first.KeyId, wrapped, CancellationToken.None));
    }

    [Fact]
    public void Group_readable_key_file_is_refused()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using (var creator = new FileKeyEncryptionKeyProvider(_dir.Path))
        {
            _ = creator.KeyId;
        }
        string path = Path.Combine(_dir.Path, FileKeyEncryptionKeyProvider.FileName);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        using var provider = new FileKeyEncryptionKeyProvider(_dir.Path);
        var ex = Assert.Throws<UnauthorizedAccessException>(() => provider.KeyId);
        Assert.Contains("chmod 600", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void Key_file_of_the_wrong_length_is_refused()
    {
        string path = Path.Combine(_dir.Path, FileKeyEncryptionKeyProvider.FileName);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(path, options))
        {
            stream.Write(new byte[31]);
        }

        using var provider = new FileKeyEncryptionKeyProvider(_dir.Path);
        Assert.Throws<InvalidDataException>(() => provider.KeyId);
    }

    [Fact]
    public async Task Wrapping_is_randomized()
    {
        using var provider = new FileKeyEncryptionKeyProvider(_dir.Path);
        byte[] a = await provider.WrapAsync(DataKey(), CancellationToken.None);
        byte[] b = await provider.WrapAsync(DataKey(), CancellationToken.None);
        Assert.Equal(12 + 32 + 16, a.Length);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task Tampered_wrapped_key_fails()
    {
        using var provider = new FileKeyEncryptionKeyProvider(_dir.Path);
        byte[] wrapped = await provider.WrapAsync(DataKey(), CancellationToken.None);
        foreach (int position in new[] { 0, 11, 12, 30, wrapped.Length - 1 })
        {
            byte[] tampered = (byte[])wrapped.Clone();
            tampered[position] ^= 0x01;
            await Assert.ThrowsAsync<KeyEncryptionKeyException>(
                async () => await provider.UnwrapAsync(provider.KeyId, tampered, CancellationToken.None));
        }
        await Assert.ThrowsAsync<KeyEncryptionKeyException>(
            async () => await provider.UnwrapAsync(provider.KeyId, wrapped.AsMemory(0, 20), CancellationToken.None));
    }

    [Fact]
    public async Task Unknown_kek_id_is_refused()
    {
        using var provider = new FileKeyEncryptionKeyProvider(_dir.Path);
        byte[] wrapped = await provider.WrapAsync(DataKey(), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<KeyEncryptionKeyException>(
            async () => await provider.UnwrapAsync("file:0000000000000000", wrapped, CancellationToken.None));
        Assert.Contains("file:0000000000000000", ex.Message);
    }

    [Fact]
    public void Different_directories_have_different_keys()
    {
        using var other = new TempDirectory();
        using var a = new FileKeyEncryptionKeyProvider(_dir.Path);
        using var b = new FileKeyEncryptionKeyProvider(other.Path);
        Assert.NotEqual(a.KeyId, b.KeyId);
    }
}
