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
    : KeyShareIdentity(UserId, KeyId, Curve, PublicKey);

/// <summary>
/// What the existing device produced: the handover text to carry to the new device, the request it was sealed to, and
/// the code to show on this device's screen for the user to type into the new device.
/// </summary>
/// <param name="Text"><c>mpc-handover3:</c> + base64url; holds the share only encrypted to the new device's request key.</param>
/// <param name="Request">The confirmed request (its key id, request id and creation time).</param>
/// <param name="HandoverCode">
/// "7K3F-9QXD-M2PA-R8TN": 80 bits derived (SHA-256, then Argon2id, as <see cref="EnrolmentRequest.ConfirmationCode"/> but
/// in its own domain) from everything the handover carries in clear, the sender's ephemeral key and the key's public key
/// among them. Show it on this device only and never send it with <paramref name="Text"/>: it is what proves to the new
/// device that the handover came from here (<see cref="DeviceHandover.Open"/> requires it).
/// </param>
public sealed record SealedHandover(string Text, EnrolmentRequest Request, string HandoverCode);

/// <summary>
/// A handover opened by the new device. The share secret stays in a buffer this object zeroes on <see cref="Dispose"/>;
/// <see cref="ImportShare"/> checks it against <see cref="Identity"/> before it is used.
/// </summary>
public sealed class OpenedHandover : IDisposable
{
    private readonly byte[] _shareSecret;
    private bool _disposed;

    internal OpenedHandover(byte[] shareSecret, HandoverIdentity identity)
    {
        _shareSecret = shareSecret;
        Identity = identity;
    }

    /// <summary>Whose share this is (authenticated together with the share; its key id is the requested one).</summary>
    public HandoverIdentity Identity { get; }

    /// <summary>The share bytes (<c>ClientKeyShare.ExportSecret()</c> format), valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> ShareSecret
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _shareSecret;
        }
    }

    /// <summary>
    /// The handed-over share, refused (<see cref="MpcErrorReason.HandoverRejected"/>) unless its key id, device id,
    /// curve and public key are the ones <see cref="Identity"/> names. The caller disposes it.
    /// </summary>
    public Mpc.Protocol.Keys.ClientKeyShare ImportShare(MpcArithmetic? arithmetic = null)
    {
        Mpc.Crypto.BigNum.IBigNumBackend backend = (arithmetic ?? MpcArithmetic.Default).Backend;
        Mpc.Protocol.Keys.ClientKeyShare share;
        try
        {
            share = Mpc.Protocol.Keys.ClientKeyShare.ImportSecret(ShareSecret, backend);
        }
        catch (Mpc.Crypto.MpcProtocolException e)
        {
            throw new MpcSignerException(MpcErrorReason.HandoverRejected, "the handover's share does not parse; nothing was enrolled", e);
        }
        if (share.KeyId != Identity.KeyId || share.DeviceId != Identity.SourceDeviceId || share.Curve != Identity.Curve
            || !EcCurve.Get(share.Curve).EncodePoint(share.PublicKey).AsSpan().SequenceEqual(Identity.PublicKeySpan))
        {
            share.Dispose();
            throw new MpcSignerException(MpcErrorReason.HandoverRejected,
                "the handover's share is not the one it names (key, device, curve or public key differ); nothing was enrolled");
        }
        return share;
    }

    public void Dispose()
    {
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_shareSecret);
        _disposed = true;
    }

    public override string ToString() => $"OpenedHandover({Identity.KeyId} from {Identity.SourceDeviceId})";
}
