using System.Runtime.CompilerServices;
using Mpc.Grains.Abstractions;

namespace Mpc.Grains.Sealing;

/// <summary>
/// Moves sealed blobs from one master key to another: each blob's data key is unwrapped by
/// <paramref name="from"/> and wrapped again by <paramref name="to"/> (<see cref="ShareSealer.RewrapAsync"/>);
/// the encrypted share, its nonce and tag are copied byte for byte and never decrypted.
/// </summary>
/// <remarks>
/// Covered: re-wrapping any sequence of sealed blobs the caller supplies, in any storage, between any two
/// providers (file to PKCS#11, one HSM key to a newer one). A blob already wrapped under the new KEK is
/// returned unchanged, so an interrupted rotation can simply be run again over everything.
/// Not covered: finding the blobs and writing the results back. The caller reads each stored blob, writes
/// the returned bytes in its place (with the store's own concurrency check), and only deletes or disables
/// the old master key once every blob names the new one (<see cref="ShareSealer.KekIdOf"/>). Keys that
/// are sealed while a rotation runs must already use the new provider.
/// </remarks>
/// <param name="from">A provider that can unwrap the blobs' current data keys.</param>
/// <param name="to">The provider whose current KEK the blobs move to.</param>
public sealed class MasterKeyRotation(IKeyEncryptionKeyProvider from, IKeyEncryptionKeyProvider to)
{
    private readonly ShareSealer _sealer = new(from ?? throw new ArgumentNullException(nameof(from)));
    private readonly IKeyEncryptionKeyProvider _to = to ?? throw new ArgumentNullException(nameof(to));

    /// <summary>Re-wraps one blob under the new KEK, or returns it as it is when it already uses that KEK.</summary>
    /// <exception cref="SealedDataException">The blob is malformed, or the old provider cannot unwrap its data key.</exception>
    public async Task<byte[]> RewrapAsync(byte[] sealedBlob, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(sealedBlob);
        if (string.Equals(ShareSealer.KekIdOf(sealedBlob), _to.KeyId, StringComparison.Ordinal))
        {
            return sealedBlob;
        }
        return await _sealer.RewrapAsync(sealedBlob, _to, ct);
    }

    /// <summary>Re-wraps each blob in order; stops at the first that cannot be unwrapped (its exception surfaces).</summary>
    public async IAsyncEnumerable<byte[]> RewrapAllAsync(IEnumerable<byte[]> sealedBlobs, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(sealedBlobs);
        foreach (byte[] blob in sealedBlobs)
        {
            ct.ThrowIfCancellationRequested();
            yield return await RewrapAsync(blob, ct);
        }
    }
}
