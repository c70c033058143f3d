using Mpc.Crypto.Curves;

namespace Mpc.Client.KeyStore;

/// <summary>
/// The clear fields of a client key file. Read without a passphrase they are unauthenticated;
/// <see cref="ClientKeyFile.Load(string, KeyFileProtection, MpcArithmetic, out KeyFileInfo)"/>
/// returns them only after checking them against the decrypted share.
/// </summary>
/// <param name="KeyId">The key's id at the signing service.</param>
/// <param name="UserId">The user the key belongs to.</param>
/// <param name="Curve">The key's curve.</param>
/// <param name="PublicKeyPem">The joint public key as a "PUBLIC KEY" PEM (SubjectPublicKeyInfo).</param>
/// <param name="IsProtected">Whether the share is encrypted under a passphrase.</param>
/// <param name="Kdf">The Argon2id parameters of a protected file; null when unprotected.</param>
/// <param name="DeviceId">The device whose share the file holds; null in a version 1 file, which does not name it.</param>
/// <param name="ShareId">The share pair's public id in lowercase hex (<c>ClientKeyShare.ShareId</c>); null in a version 1 file.</param>
public sealed record KeyFileInfo(
    string KeyId,
    string UserId,
    CurveKind Curve,
    string PublicKeyPem,
    bool IsProtected,
    Argon2idParameters? Kdf,
    string? DeviceId = null,
    string? ShareId = null)
{
    /// <summary>The named share id as bytes; null when none is named or it is not in the one spelling the reader accepts.</summary>
    internal byte[]? ShareIdBytes() => ShareId is { } hex && KeyFileFormat.IsShareIdHex(hex) ? Convert.FromHexString(hex) : null;
}
