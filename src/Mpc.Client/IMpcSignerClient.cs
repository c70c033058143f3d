using System.Security.Cryptography.X509Certificates;
using Mpc.Client.DeviceProfiles;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Client;

/// <summary>
/// The operations of the signing service's client (P2), as <see cref="MpcSignerClient"/> implements them: depend on
/// this interface to replace the client in tests. Every failure is an <see cref="MpcSignerException"/> (its
/// <see cref="MpcSignerException.Reason"/> says why); cancellation is an <see cref="OperationCanceledException"/>.
/// </summary>
public interface IMpcSignerClient : IDisposable
{
    /// <summary>Runs distributed key generation for a new key on <paramref name="curve"/>.</summary>
    Task<MpcKey> CreateKeyAsync(CurveKind curve, CancellationToken cancellationToken = default);

    /// <summary>Key generation with the new share handed to <paramref name="savePending"/> before the server is asked to store the key.</summary>
    Task<MpcKey> CreateKeyAsync(CurveKind curve, PendingShareHandler? savePending, CancellationToken cancellationToken = default);

    /// <summary>Settles a key generation that ended in <see cref="MpcKeyGenOutcomeUnknownException"/> with its share.</summary>
    Task<MpcKey> ConfirmKeyAsync(ClientKeyShare share, CancellationToken cancellationToken = default);

    /// <summary>Wraps a share loaded from storage so it can sign.</summary>
    MpcKey OpenKey(ClientKeyShare share);

    /// <summary>Signs a 32-, 48- or 64-byte digest; the signature is verified against the key before it is returned.</summary>
    Task<MpcSignature> SignDigestAsync(MpcKey key, ReadOnlyMemory<byte> digest, MpcSignOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Hashes <paramref name="data"/> (SHA-256; SHA-384 on P-384) and signs the digest.</summary>
    Task<MpcSignature> SignDataAsync(MpcKey key, ReadOnlyMemory<byte> data, MpcSignOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>The server's record of a key: public key, status, certificate chain.</summary>
    Task<MpcKeyInfo> GetKeyAsync(string keyId, CancellationToken cancellationToken = default);

    /// <summary>Every key of the authenticated user.</summary>
    Task<IReadOnlyList<MpcKeyInfo>> ListKeysAsync(CancellationToken cancellationToken = default);

    /// <summary>An <see cref="System.Security.Cryptography.ECDsa"/> whose signing runs the two-party protocol through this client.</summary>
    MpcECDsa CreateECDsa(MpcKey key);

    /// <summary>Replaces this device's share pair with a fresh one (same public key); the old share is refused afterwards.</summary>
    Task<MpcKey> RefreshKeyAsync(MpcKey key, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default);

    /// <summary>Makes a new device's own share pair from a share another device handed over.</summary>
    Task<MpcKey> EnrolDeviceAsync(ClientKeyShare handedOver, string label, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default);

    /// <summary>Derives a backup share pair; the returned client share is to be wrapped with a passphrase and kept off the server.</summary>
    Task<ClientKeyShare> CreateBackupAsync(MpcKey key, string label, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default);

    /// <summary>Restores a backup share onto this device (the backup is used up).</summary>
    Task<MpcKey> RestoreBackupAsync(ClientKeyShare backup, string label, PendingShareHandler? savePending = null, CancellationToken cancellationToken = default);

    /// <summary>Imports a whole private key (big-endian scalar) the user already holds, with its certificate chain.</summary>
    Task<MpcKey> ImportKeyAsync(
        CurveKind curve,
        ReadOnlyMemory<byte> privateKey,
        IReadOnlyList<X509Certificate2>? certificateChain = null,
        string label = "",
        PendingShareHandler? savePending = null,
        CancellationToken cancellationToken = default);

    /// <summary>Imports a key read by <see cref="Custody.ImportedKeyReader"/>, with the certificate chain found in its file.</summary>
    Task<MpcKey> ImportKeyAsync(Custody.ImportedKey imported, string label = "", PendingShareHandler? savePending = null, CancellationToken cancellationToken = default);

    /// <summary>The key's devices and backups, revoked ones included.</summary>
    Task<IReadOnlyList<MpcDeviceInfo>> ListDevicesAsync(string keyId, CancellationToken cancellationToken = default);

    /// <summary>Destroys a device's (or backup's) server-side share.</summary>
    Task<MpcDeviceInfo> RevokeDeviceAsync(string keyId, string deviceId, CancellationToken cancellationToken = default);

    /// <summary>Operator only (scope "mpc.admin"): lifts a freeze; every remaining device must refresh before it signs.</summary>
    Task<MpcKeyInfo> UnfreezeKeyAsync(string userId, string keyId, string? revokeDeviceId = null, CancellationToken cancellationToken = default);

    /// <summary>Stores a certificate chain (leaf first) in the server's record of the key.</summary>
    Task<MpcKeyInfo> SetCertificateChainAsync(string keyId, IEnumerable<X509Certificate2> chain, CancellationToken cancellationToken = default);

    /// <summary>Makes a self-signed certificate for the key and stores it as the key's chain.</summary>
    Task<X509Certificate2> CreateSelfSignedCertificateAsync(
        MpcKey key, X500DistinguishedName subject, DateTimeOffset notBefore, DateTimeOffset notAfter, CancellationToken cancellationToken = default);

    /// <summary>Signs a document as a detached CAdES-BES CMS, with the given chain or the one stored with the key.</summary>
    Task<byte[]> SignCmsAsync(MpcKey key, ReadOnlyMemory<byte> document, IReadOnlyList<X509Certificate2>? chain = null, CancellationToken cancellationToken = default);

    /// <summary>Signs a payload as a compact JWS (ES256, ES384 or ES256K by the key's curve).</summary>
    Task<string> SignJwsAsync(MpcKey key, ReadOnlyMemory<byte> payload, Documents.JwsOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>One page of a key's audit log.</summary>
    Task<MpcAuditPage> GetAuditAsync(string keyId, long fromSequence = 1, int maxCount = 0, CancellationToken cancellationToken = default);

    /// <summary>The whole persisted audit log of a key, fetched page by page.</summary>
    Task<MpcAuditPage> GetAuditLogAsync(string keyId, CancellationToken cancellationToken = default);

    /// <summary>A key's persisted audit log from an entry on, page by page as it is fetched (one page held at a time).</summary>
    IAsyncEnumerable<MpcAuditPage> ReadAuditLogAsync(string keyId, long fromSequence = 1, CancellationToken cancellationToken = default);

    /// <summary>Verifies a key's audit log without keeping it: all of it, or what follows a head verified before.</summary>
    Task<MpcAuditVerification> VerifyAuditLogAsync(string keyId, MpcAuditHead? since = null, CancellationToken cancellationToken = default);

    /// <summary>Loads or creates this device's proof parameters now, before anything is sent.</summary>
    Task<DeviceProfileSource> PrepareDeviceProfileAsync(CancellationToken cancellationToken = default);

    /// <summary>Replaces this device's profile with a new one; returns its public fingerprint.</summary>
    Task<string> RegenerateDeviceProfileAsync(CancellationToken cancellationToken = default);
}
