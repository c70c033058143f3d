using System.Security.Cryptography;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Encoding;

namespace Mpc.Client.Custody;

/// <summary>
/// The backup file <c>mpc backup</c> writes: the client share wrapped under a passphrase the user chooses
/// (Argon2id, parameters pinned by the client, then AES-256-GCM), with a readable public header naming the user,
/// key and device. The whole header, format name and version are the GCM associated data, so a key file is
/// never taken for a backup and an edited header does not decrypt. The signing server never receives this file:
/// holding it would let the server guess the passphrase offline and then hold both shares.
/// </summary>
/// <remarks>Layout: docs/key-custody.md. Errors are <see cref="MpcSignerException"/>s with one-line messages.</remarks>
public static class ClientShareBackup
{
    internal const string Format = "mpc-signer/client-share-backup";
    internal const uint Version = 1;
    internal const string Kind = "a client share backup";

    /// <summary>
    /// Wraps <paramref name="shareSecret"/> (opaque bytes, <c>ClientKeyShare.ExportSecret()</c>) for
    /// <paramref name="identity"/>, with a fresh salt and nonce. The result holds no secret in clear.
    /// </summary>
    public static byte[] Seal(ReadOnlySpan<byte> shareSecret, BackupIdentity identity, ReadOnlySpan<char> passphrase) =>
        Seal(shareSecret, identity, passphrase, KeyFileOptions.Default);

    /// <summary>The header, without the passphrase: checked for form, not authenticated (only <see cref="Open(ReadOnlySpan{byte}, ReadOnlySpan{char}, out BackupIdentity)"/> proves it).</summary>
    public static BackupIdentity ReadIdentity(ReadOnlySpan<byte> file) =>
        PassphraseEnvelope.Parse(file, Format, Version, Kind, ReadHeader, minimum: null).Header;

    /// <summary>
    /// Unwraps the share; the caller zeroes the returned bytes (<see cref="CryptographicOperations.ZeroMemory"/>)
    /// and should check the share's public key against <paramref name="identity"/> when importing it.
    /// </summary>
    public static byte[] Open(ReadOnlySpan<byte> file, ReadOnlySpan<char> passphrase, out BackupIdentity identity) =>
        Open(file, passphrase, out identity, KeyFileOptions.Default);

    /// <summary>Re-wraps the share under <paramref name="newPassphrase"/> with a fresh salt and nonce; the header is kept.</summary>
    public static byte[] ChangePassphrase(ReadOnlySpan<byte> file, ReadOnlySpan<char> oldPassphrase, ReadOnlySpan<char> newPassphrase) =>
        ChangePassphrase(file, oldPassphrase, newPassphrase, KeyFileOptions.Default);

    internal static byte[] Seal(ReadOnlySpan<byte> shareSecret, BackupIdentity identity, ReadOnlySpan<char> passphrase, KeyFileOptions options)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (shareSecret.IsEmpty)
        {
            throw new ArgumentException("The share secret is empty.", nameof(shareSecret));
        }
        CustodyFields.RequireUserId(identity.UserId, nameof(identity));
        CustodyFields.RequireKeyId(identity.KeyId, nameof(identity));
        CustodyFields.RequireDeviceId(identity.DeviceId, nameof(identity));
        CustodyFields.RequirePublicKey(identity.Curve, identity.PublicKey, nameof(identity));
        return PassphraseEnvelope.Seal(Format, Version, writer => WriteHeader(writer, identity), shareSecret, passphrase, options.Kdf);
    }

    internal static byte[] Open(ReadOnlySpan<byte> file, ReadOnlySpan<char> passphrase, out BackupIdentity identity, KeyFileOptions options)
    {
        Envelope<BackupIdentity> envelope = Parse(file, options);
        byte[] secret = PassphraseEnvelope.Open(envelope, passphrase, "backup file");
        identity = envelope.Header;
        return secret;
    }

    internal static byte[] ChangePassphrase(ReadOnlySpan<byte> file, ReadOnlySpan<char> oldPassphrase, ReadOnlySpan<char> newPassphrase, KeyFileOptions options)
    {
        byte[] secret = Open(file, oldPassphrase, out BackupIdentity identity, options);
        try
        {
            return Seal(secret, identity, newPassphrase, options);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private static Envelope<BackupIdentity> Parse(ReadOnlySpan<byte> file, KeyFileOptions options) =>
        PassphraseEnvelope.Parse(file, Format, Version, Kind, ReadHeader, options.Minimum);

    private static void WriteHeader(WireWriter writer, BackupIdentity identity) =>
        writer.WriteString(identity.UserId)
            .WriteString(identity.KeyId)
            .WriteString(identity.DeviceId)
            .WriteCurve(identity.Curve)
            .WriteBytes(identity.PublicKeySpan)
            .WriteTime(identity.CreatedAt);

    private static BackupIdentity ReadHeader(ref WireReader reader)
    {
        string userId = CustodyFields.ReadUserId(ref reader);
        string keyId = CustodyFields.ReadKeyId(ref reader);
        string deviceId = CustodyFields.ReadDeviceId(ref reader, "device id");
        var curve = CustodyFields.ReadCurve(ref reader);
        byte[] publicKey = CustodyFields.ReadPoint(ref reader, curve, "public key");
        DateTimeOffset createdAt = CustodyFields.ReadTime(ref reader, "created at");
        return new BackupIdentity(userId, keyId, deviceId, curve, publicKey, createdAt);
    }
}
