using System.Security.Cryptography;
using Mpc.Crypto;
using Mpc.Crypto.Encoding;
using Mpc.Grains.Abstractions;

namespace Mpc.Grains.Sealing;

/// <summary>Whose secret a sealed blob holds and what for; bound into the AEAD so a blob cannot be moved.</summary>
public sealed record SealContext(string UserId, string KeyId, string Purpose);

/// <summary>
/// Envelope encryption of a secret blob (a server key share's exported bytes): a fresh AES-256-GCM data key
/// per seal, associated data naming the format, user, key and purpose, and the data key wrapped by the
/// <see cref="IKeyEncryptionKeyProvider"/>.
/// </summary>
/// <remarks>
/// Sealed format, in <see cref="WireWriter"/> framing: version (uint32 = 1), KEK id, wrapped data key,
/// nonce (12), ciphertext, tag (16). The associated data is the <see cref="WireWriter"/> encoding of
/// ("mpc-signer/sealed-share", 1, userId, keyId, purpose).
/// </remarks>
public sealed class ShareSealer
{
    public const uint FormatVersion = 1;

    /// <summary>The largest secret that can be sealed: one <see cref="WireReader"/> field.</summary>
    public const int MaxSecretLength = WireReader.MaxFieldLength;

    private const string Domain = "mpc-signer/sealed-share";
    private const int DataKeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly IKeyEncryptionKeyProvider _provider;

    public ShareSealer(IKeyEncryptionKeyProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        _provider = provider;
    }

    public async ValueTask<byte[]> SealAsync(ReadOnlyMemory<byte> secret, SealContext context, CancellationToken ct)
    {
        ValidateContext(context);
        if (secret.Length > MaxSecretLength)
        {
            throw new ArgumentException($"A sealed secret is at most {MaxSecretLength} bytes.", nameof(secret));
        }

        byte[] dataKey = GC.AllocateUninitializedArray<byte>(DataKeySize, pinned: true);
        try
        {
            RandomNumberGenerator.Fill(dataKey);
            byte[] nonce = RandomNumberGenerator.GetBytes(NonceSize);
            var ciphertext = new byte[secret.Length];
            var tag = new byte[TagSize];
            using (var aes = new AesGcm(dataKey, TagSize))
            {
                aes.Encrypt(nonce, secret.Span, ciphertext, tag, AssociatedData(context));
            }

            string kekId = _provider.KeyId;
            byte[] wrapped = await _provider.WrapAsync(dataKey, ct);
            return Encode(new Envelope(kekId, wrapped, nonce, ciphertext, tag));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>Opens a blob sealed for exactly <paramref name="context"/>. The caller owns and zeroes the result.</summary>
    /// <exception cref="SealedDataException">Malformed, tampered, another context, or an unknown KEK.</exception>
    public async ValueTask<byte[]> OpenAsync(ReadOnlyMemory<byte> sealedBlob, SealContext context, CancellationToken ct)
    {
        ValidateContext(context);
        Envelope envelope = Decode(sealedBlob.Span);
        byte[] dataKey = await UnwrapAsync(_provider, envelope, ct);
        var plaintext = new byte[envelope.Ciphertext.Length];
        try
        {
            using var aes = new AesGcm(dataKey, TagSize);
            aes.Decrypt(envelope.Nonce, envelope.Ciphertext, envelope.Tag, plaintext, AssociatedData(context));
            return plaintext;
        }
        catch (AuthenticationTagMismatchException ex)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw new SealedDataException(
                "The sealed share failed authentication: it was altered, or sealed for another user, key or purpose.", ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>
    /// Re-wraps the data key under <paramref name="newProvider"/>'s current KEK, leaving the encrypted share
    /// untouched: master-key rotation without ever decrypting a share.
    /// </summary>
    /// <exception cref="SealedDataException">The blob is malformed or its data key cannot be unwrapped here.</exception>
    public async ValueTask<byte[]> RewrapAsync(ReadOnlyMemory<byte> sealedBlob, IKeyEncryptionKeyProvider newProvider, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(newProvider);
        Envelope envelope = Decode(sealedBlob.Span);
        byte[] dataKey = await UnwrapAsync(_provider, envelope, ct);
        try
        {
            string kekId = newProvider.KeyId;
            byte[] wrapped = await newProvider.WrapAsync(dataKey, ct);
            return Encode(envelope with { KekId = kekId, WrappedKey = wrapped });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>The id of the KEK a sealed blob's data key is wrapped under (public metadata; nothing is decrypted).</summary>
    /// <exception cref="SealedDataException">The blob is malformed.</exception>
    public static string KekIdOf(ReadOnlyMemory<byte> sealedBlob) => Decode(sealedBlob.Span).KekId;

    private static async ValueTask<byte[]> UnwrapAsync(IKeyEncryptionKeyProvider provider, Envelope envelope, CancellationToken ct)
    {
        byte[] dataKey;
        try
        {
            dataKey = await provider.UnwrapAsync(envelope.KekId, envelope.WrappedKey, ct);
        }
        catch (Exception ex) when (ex is KeyEncryptionKeyException or CryptographicException)
        {
            throw new SealedDataException($"The sealed share's data key cannot be unwrapped (KEK '{envelope.KekId}').", ex);
        }
        if (dataKey.Length != DataKeySize)
        {
            CryptographicOperations.ZeroMemory(dataKey);
            throw new SealedDataException($"The sealed share's data key must be {DataKeySize} bytes.");
        }
        return dataKey;
    }

    private static void ValidateContext(SealContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrEmpty(context.UserId, nameof(context));
        ArgumentException.ThrowIfNullOrEmpty(context.KeyId, nameof(context));
        ArgumentException.ThrowIfNullOrEmpty(context.Purpose, nameof(context));
    }

    private static byte[] AssociatedData(SealContext context) =>
        new WireWriter()
            .WriteString(Domain)
            .WriteUInt32(FormatVersion)
            .WriteString(context.UserId)
            .WriteString(context.KeyId)
            .WriteString(context.Purpose)
            .ToArray();

    private static byte[] Encode(Envelope envelope) =>
        new WireWriter()
            .WriteUInt32(FormatVersion)
            .WriteString(envelope.KekId)
            .WriteBytes(envelope.WrappedKey)
            .WriteBytes(envelope.Nonce)
            .WriteBytes(envelope.Ciphertext)
            .WriteBytes(envelope.Tag)
            .ToArray();

    private static Envelope Decode(ReadOnlySpan<byte> blob)
    {
        try
        {
            var reader = new WireReader(blob);
            uint version = reader.ReadUInt32("sealed share version");
            if (version != FormatVersion)
            {
                throw new SealedDataException($"Unsupported sealed share format version {version}; expected {FormatVersion}.");
            }
            var envelope = new Envelope(
                reader.ReadString("KEK id"),
                reader.ReadByteArray("wrapped data key", maxLength: 4096),
                reader.ReadByteArray("nonce", exactLength: NonceSize),
                reader.ReadByteArray("ciphertext"),
                reader.ReadByteArray("tag", exactLength: TagSize));
            reader.EnsureEnd("sealed share");
            return envelope;
        }
        catch (MpcProtocolException ex)
        {
            throw new SealedDataException($"The sealed share is malformed: {ex.Message}", ex);
        }
    }

    private sealed record Envelope(string KekId, byte[] WrappedKey, byte[] Nonce, byte[] Ciphertext, byte[] Tag);
}
