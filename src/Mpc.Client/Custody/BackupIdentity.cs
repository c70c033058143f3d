using Mpc.Crypto.Curves;

namespace Mpc.Client.Custody;

/// <summary>
/// The public header of a client share backup: whose share it is, which key, which device wrote it, and when.
/// Readable without the passphrase (<see cref="ClientShareBackup.ReadIdentity"/>) but authenticated by the
/// passphrase: <see cref="ClientShareBackup.Open(ReadOnlySpan{byte}, ReadOnlySpan{char}, out BackupIdentity)"/> fails if any of it was edited.
/// </summary>
/// <param name="UserId">The user the key belongs to (1-256 characters, no control characters).</param>
/// <param name="KeyId">The key's id at the signing service.</param>
/// <param name="DeviceId">The device that wrote the backup (1-128 characters, no control characters).</param>
/// <param name="Curve">The key's curve.</param>
/// <param name="PublicKey">The joint public key, compressed SEC1. Copied in and out, so the record stays immutable.</param>
/// <param name="CreatedAt">When the backup was written; stored to the millisecond, read back in UTC.</param>
public sealed record BackupIdentity(string UserId, string KeyId, string DeviceId, CurveKind Curve, byte[] PublicKey, DateTimeOffset CreatedAt)
    : KeyShareIdentity(UserId, KeyId, Curve, PublicKey);
