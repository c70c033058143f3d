using Mpc.Crypto.Curves;

namespace Mpc.Client.Custody;

/// <summary>
/// Whose share a custody artefact (a backup, a device handover) carries: the user, the key, its curve and its public
/// key. The artefact authenticates it with the share; the derived records add the device and, for a backup, the time.
/// </summary>
/// <param name="UserId">The user the key belongs to (1-256 characters, no control characters).</param>
/// <param name="KeyId">The key's id at the signing service.</param>
/// <param name="Curve">The key's curve.</param>
/// <param name="PublicKey">The joint public key, compressed SEC1. Copied in and out, so the record stays immutable.</param>
public abstract record KeyShareIdentity(string UserId, string KeyId, CurveKind Curve, byte[] PublicKey)
{
    private readonly byte[] _publicKey = (PublicKey ?? throw new ArgumentNullException(nameof(PublicKey))).ToArray();

    public byte[] PublicKey
    {
        get => _publicKey.ToArray();
        init => _publicKey = (value ?? throw new ArgumentNullException(nameof(value))).ToArray();
    }

    internal ReadOnlySpan<byte> PublicKeySpan => _publicKey;

    public virtual bool Equals(KeyShareIdentity? other) =>
        other is not null
        && EqualityContract == other.EqualityContract
        && string.Equals(UserId, other.UserId, StringComparison.Ordinal)
        && string.Equals(KeyId, other.KeyId, StringComparison.Ordinal)
        && Curve == other.Curve
        && _publicKey.AsSpan().SequenceEqual(other._publicKey);

    public override int GetHashCode() => HashCode.Combine(EqualityContract, UserId, KeyId, Curve, Convert.ToHexString(_publicKey));
}
