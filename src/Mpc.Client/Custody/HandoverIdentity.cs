using Mpc.Crypto.Curves;

namespace Mpc.Client.Custody;

/// <summary>
/// Whose share a device handover carries, sent in clear inside the handover and authenticated with it
/// (GCM associated data): the user, the key, the device handing over, and the key's curve and public key.
/// </summary>
/// <param name="UserId">The user the key belongs to (1-256 characters, no control characters).</param>
/// <param name="KeyId">The key's id at the signing service.</param>
/// <param name="SourceDeviceId">The existing device handing its share over (1-128 characters, no control characters).</param>
/// <param name="Curve">The key's curve.</param>
/// <param name="PublicKey">The joint public key, compressed SEC1. Copied in and out, so the record stays immutable.</param>
public sealed record HandoverIdentity(string UserId, string KeyId, string SourceDeviceId, CurveKind Curve, byte[] PublicKey)
{
    private readonly byte[] _publicKey = (PublicKey ?? throw new ArgumentNullException(nameof(PublicKey))).ToArray();

    public byte[] PublicKey
    {
        get => _publicKey.ToArray();
        init => _publicKey = (value ?? throw new ArgumentNullException(nameof(value))).ToArray();
    }

    internal ReadOnlySpan<byte> PublicKeySpan => _publicKey;

    public bool Equals(HandoverIdentity? other) =>
        other is not null
        && string.Equals(UserId, other.UserId, StringComparison.Ordinal)
        && string.Equals(KeyId, other.KeyId, StringComparison.Ordinal)
        && string.Equals(SourceDeviceId, other.SourceDeviceId, StringComparison.Ordinal)
        && Curve == other.Curve
        && _publicKey.AsSpan().SequenceEqual(other._publicKey);

    public override int GetHashCode() => HashCode.Combine(UserId, KeyId, SourceDeviceId, Curve, Convert.ToHexString(_publicKey));
}

/// <summary>What the existing device produced: the handover text to carry, and the code to compare on both screens.</summary>
/// <param name="Text"><c>mpc-handover1:</c> + base64url; holds the share only encrypted to the new device's request key.</param>
/// <param name="AuthenticationString">16 characters, "7K3F-9QXD-M2PA-R8TN": typed into the new device, which must compute the same before it proceeds.</param>
public sealed record SealedHandover(string Text, string AuthenticationString);

/// <summary>
/// A handover opened by the new device. The share secret stays in a buffer this object zeroes on <see cref="Dispose"/>;
/// proceed (import the share, refresh with the server) only after the user confirmed <see cref="AuthenticationString"/>.
/// </summary>
public sealed class OpenedHandover : IDisposable
{
    private readonly byte[] _shareSecret;
    private bool _disposed;

    internal OpenedHandover(byte[] shareSecret, HandoverIdentity identity, string authenticationString)
    {
        _shareSecret = shareSecret;
        Identity = identity;
        AuthenticationString = authenticationString;
    }

    /// <summary>Whose share this is (authenticated together with the share).</summary>
    public HandoverIdentity Identity { get; }

    /// <summary>Must equal the code the existing device displayed; otherwise someone substituted a request or handover.</summary>
    public string AuthenticationString { get; }

    /// <summary>The share bytes (<c>ClientKeyShare.ExportSecret()</c> format), valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> ShareSecret
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _shareSecret;
        }
    }

    public void Dispose()
    {
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_shareSecret);
        _disposed = true;
    }

    public override string ToString() => $"OpenedHandover({Identity.KeyId} from {Identity.SourceDeviceId})";
}
