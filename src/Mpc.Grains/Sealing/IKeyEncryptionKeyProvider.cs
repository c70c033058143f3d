using Mpc.Grains.Abstractions;

namespace Mpc.Grains.Sealing;

/// <summary>
/// The key-encryption key (KEK) that wraps per-blob data keys. Implementations decide the
/// mechanism (a local file, a PKCS#11 HSM, a cloud KMS); callers see only opaque wrapped bytes.
/// </summary>
public interface IKeyEncryptionKeyProvider
{
    /// <summary>Identifies the current KEK; stored next to every wrapped data key.</summary>
    string KeyId { get; }

    /// <summary>Wraps <paramref name="dataKey"/> under the current KEK. The output is authenticated.</summary>
    ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken ct);

    /// <summary>
    /// Unwraps a data key wrapped under the KEK named <paramref name="kekId"/>. The caller owns and zeroes the result.
    /// </summary>
    /// <exception cref="KeyEncryptionKeyException">The KEK is unknown here, or the wrapped key fails authentication.</exception>
    ValueTask<byte[]> UnwrapAsync(string kekId, ReadOnlyMemory<byte> wrapped, CancellationToken ct);
}

/// <summary>A data key could not be unwrapped: unknown KEK, or the wrapped bytes fail authentication.</summary>
public sealed class KeyEncryptionKeyException : Exception
{
    public KeyEncryptionKeyException(string message) : base(message)
    {
    }

    public KeyEncryptionKeyException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
