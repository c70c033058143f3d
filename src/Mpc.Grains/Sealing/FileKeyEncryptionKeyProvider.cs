using System.Security.Cryptography;
using System.Text;
using Mpc.Grains.Abstractions;
using Mpc.Storage;

namespace Mpc.Grains.Sealing;

/// <summary>
/// The embedded default KEK: 32 random bytes in <c>&lt;dataDir&gt;/master.key</c>, owner-only, created on
/// first use. Data keys are wrapped with AES-256-GCM. Anyone who can read the file can open every sealed
/// share: production deployments should use an HSM or KMS provider instead.
/// </summary>
public sealed class FileKeyEncryptionKeyProvider : IKeyEncryptionKeyProvider, IDisposable
{
    public const string FileName = "master.key";
    private const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const string AssociatedDataPrefix = "mpc-signer/kek-wrap/v1|";

    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly string _directory;
    private readonly Lock _gate = new();
    private byte[]? _key;
    private string? _keyId;
    private bool _disposed;

    public FileKeyEncryptionKeyProvider(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        _directory = Path.GetFullPath(dataDirectory);
    }

    /// <summary>Where the master key lives.</summary>
    public string KeyFilePath => Path.Combine(_directory, FileName);

    /// <summary>"file:" and the hex of the first 8 bytes of SHA-256 of the key. Loads or creates the key.</summary>
    public string KeyId
    {
        get
        {
            EnsureLoaded();
            return _keyId!;
        }
    }

    public ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        byte[] key = EnsureLoaded();
        var output = new byte[NonceSize + dataKey.Length + TagSize];
        Span<byte> nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(
            nonce,
            dataKey.Span,
            output.AsSpan(NonceSize, dataKey.Length),
            output.AsSpan(NonceSize + dataKey.Length, TagSize),
            AssociatedData(_keyId!));
        return ValueTask.FromResult(output);
    }

    public ValueTask<byte[]> UnwrapAsync(string kekId, ReadOnlyMemory<byte> wrapped, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(kekId);
        ct.ThrowIfCancellationRequested();
        byte[] key = EnsureLoaded();
        if (!string.Equals(kekId, _keyId, StringComparison.Ordinal))
        {
            throw new KeyEncryptionKeyException(
                $"The data key was wrapped under KEK '{kekId}', but this provider holds '{_keyId}' ({KeyFilePath}).");
        }
        if (wrapped.Length < NonceSize + TagSize)
        {
            throw new KeyEncryptionKeyException("The wrapped data key is too short.");
        }

        ReadOnlySpan<byte> input = wrapped.Span;
        int length = input.Length - NonceSize - TagSize;
        var dataKey = new byte[length];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(
                input[..NonceSize],
                input.Slice(NonceSize, length),
                input[^TagSize..],
                dataKey,
                AssociatedData(_keyId!));
        }
        catch (AuthenticationTagMismatchException ex)
        {
            CryptographicOperations.ZeroMemory(dataKey);
            throw new KeyEncryptionKeyException($"The wrapped data key failed authentication under KEK '{_keyId}'.", ex);
        }
        return ValueTask.FromResult(dataKey);
    }

    /// <summary>Zeroes the key held in memory.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_key is not null)
            {
                CryptographicOperations.ZeroMemory(_key);
                _key = null;
            }
            _disposed = true;
        }
    }

    private static byte[] AssociatedData(string kekId) => Encoding.UTF8.GetBytes(AssociatedDataPrefix + kekId);

    private byte[] EnsureLoaded()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_key is null)
            {
                // Pinned so the GC never leaves an unzeroed copy behind when it compacts.
                byte[] key = GC.AllocateUninitializedArray<byte>(KeySize, pinned: true);
                try
                {
                    LoadOrCreate(key);
                    Span<byte> digest = stackalloc byte[32];
                    SHA256.HashData(key, digest);
                    _keyId = "file:" + Convert.ToHexStringLower(digest[..8]);
                    _key = key;
                }
                catch
                {
                    CryptographicOperations.ZeroMemory(key);
                    throw;
                }
            }
            return _key;
        }
    }

    private void LoadOrCreate(Span<byte> key)
    {
        string path = KeyFilePath;
        if (!File.Exists(path))
        {
            CreateKeyFile(path);
        }
        ReadKeyFile(path, key);
    }

    private void CreateKeyFile(string path)
    {
        DurableFile.CreateOwnerOnlyDirectory(_directory);

        byte[] fresh = GC.AllocateUninitializedArray<byte>(KeySize, pinned: true);
        try
        {
            RandomNumberGenerator.Fill(fresh);
            // Create-only: if another process created the key meanwhile, theirs wins and is read next. The routine
            // flushes the directory either way: shares are sealed under this key right after, and a power cut must
            // not keep them and lose the key's name.
            _ = DurableFile.Write(path, fresh, overwrite: false, ownerOnly: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(fresh);
        }
    }

    private static void ReadKeyFile(string path, Span<byte> key)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (!OperatingSystem.IsWindows())
        {
            UnixFileMode mode = File.GetUnixFileMode(stream.SafeFileHandle);
            if ((mode & GroupOrOther) != 0)
            {
                throw new UnauthorizedAccessException(
                    $"Refusing to use master key file '{path}': its mode {ToOctal(mode)} grants access to group or others. " +
                    $"Restrict it with `chmod 600 {path}`.");
            }
        }
        if (stream.Length != KeySize)
        {
            throw new InvalidDataException(
                $"Master key file '{path}' must hold exactly {KeySize} bytes, but holds {stream.Length}.");
        }
        stream.ReadExactly(key);
    }

    private static string ToOctal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8);
}
