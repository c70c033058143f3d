using Mpc.Crypto.Curves;
using RefreshPurpose = Mpc.Protocol.Messages.RefreshPurpose;

namespace Mpc.Grains.Abstractions;

/// <summary>
/// One grain per user: the server's side of every key the user owns. Protocol payloads are the protocol's
/// wire encoding (docs/protocol.md); the grain decodes and validates them. Non-reentrant: one call at a time.
/// </summary>
[Alias("mpc.IUserKeysGrain")]
public interface IUserKeysGrain : IGrainWithStringKey
{
    /// <summary>Key generation rounds 1 → 2 for a fresh key id; nothing is stored (at most 8 pending per user, else ResourceExhausted).</summary>
    [Alias("BeginKeyGen")]
    Task<byte[]> BeginKeyGen(string keyId, [Immutable] byte[] request);

    /// <summary>Key generation rounds 3 → 4; the key id is claimed (<see cref="IKeyOwnerGrain"/>) and the sealed share stored before this returns.</summary>
    [Alias("CompleteKeyGen")]
    Task<KeyGenCompletion> CompleteKeyGen(string keyId, [Immutable] byte[] clientShare);

    /// <summary>
    /// Key generation rounds 3 → 4 without storing: the server's share (KeyGenServerShare encoding) is returned and the
    /// key waits in memory, unclaimed, for <see cref="ConfirmKeyGen"/> (it expires as a pending key generation does).
    /// </summary>
    [Alias("CompleteKeyGenToConfirm")]
    Task<byte[]> CompleteKeyGenToConfirm(string keyId, [Immutable] byte[] clientShare);

    /// <summary>Stores a key left waiting by <see cref="CompleteKeyGenToConfirm"/>, as CompleteKeyGen would have; NotFound once expired or confirmed.</summary>
    [Alias("ConfirmKeyGen")]
    Task<KeySummary> ConfirmKeyGen(string keyId);

    /// <summary>Signing round 1: a fresh commitment (SignCommitment encoding) for one device's share pair.</summary>
    [Alias("BeginSign")]
    Task<byte[]> BeginSign(string keyId, DeviceShare device);

    /// <summary>Signing rounds 2 → 3 (SignNonce → SignOpening).</summary>
    [Alias("SignNonce")]
    Task<byte[]> SignNonce(string keyId, DeviceShare device, [Immutable] byte[] nonce);

    /// <summary>Signing rounds 4 → 5 (SignCiphertext → SignResult), optionally with the next commitment.</summary>
    [Alias("SignFinish")]
    Task<SignCompletion> SignFinish(string keyId, [Immutable] byte[] sessionId, [Immutable] byte[] ciphertext, bool wantNextCommitment);

    /// <summary>Refresh rounds 1 → 2 from one of the key's devices (refresh, enrol, backup or restore).</summary>
    [Alias("BeginRefresh")]
    Task<RefreshStarted> BeginRefresh(string keyId, RefreshStart start);

    /// <summary>Import rounds 1 → 2 for a fresh key id (claimed only when the import completes): the client's seed share starts the refresh.</summary>
    [Alias("BeginImport")]
    Task<RefreshStarted> BeginImport(string keyId, ImportStart start);

    /// <summary>Refresh rounds 3 → 4 (RefreshContribution → RefreshServerShare).</summary>
    [Alias("ContinueRefresh")]
    Task<byte[]> ContinueRefresh(string keyId, string refreshId, [Immutable] byte[] contribution);

    /// <summary>Refresh round 5: the new pair is stored (and the old one retired) before this returns.</summary>
    [Alias("CompleteRefresh")]
    Task<RefreshCompletion> CompleteRefresh(string keyId, string refreshId, [Immutable] byte[] confirmation);

    [Alias("ListDevices")]
    Task<IReadOnlyList<DeviceSummary>> ListDevices(string keyId);

    /// <summary>Destroys a device's server-side share: its client share never signs again.</summary>
    [Alias("RevokeDevice")]
    Task<DeviceSummary> RevokeDevice(string keyId, string deviceId);

    /// <summary>Operator only: lifts a freeze; every remaining pair must be refreshed before it signs.</summary>
    [Alias("Unfreeze")]
    Task<KeySummary> Unfreeze(string keyId, string? revokeDeviceId, string operatorName);

    [Alias("GetKey")]
    Task<KeySummary?> GetKey(string keyId);

    [Alias("ListKeys")]
    Task<IReadOnlyList<KeySummary>> ListKeys();

    /// <summary>
    /// Replaces the key's certificate chain (leaf first, DER). Refused (InvalidArgument) unless every certificate
    /// parses, the chain is ordered, the leaf certifies exactly this key's public key and every issuer's key is within
    /// bounds (RSA of at most 4096 bits, EC on a named curve, Ed25519, Ed448). Allowed on frozen keys.
    /// </summary>
    [Alias("SetCertificateChain")]
    Task<KeySummary> SetCertificateChain(string keyId, [Immutable] byte[][] chainDer);
}

/// <summary>
/// Which user owns a key id: one tiny grain per key id, so that a caller naming someone else's key
/// is told PermissionDenied, and key ids are unique across users.
/// </summary>
[Alias("mpc.IKeyOwnerGrain")]
public interface IKeyOwnerGrain : IGrainWithStringKey
{
    /// <summary>Records <paramref name="userId"/> as the owner if the key id is free; true when the caller owns it now.</summary>
    [Alias("Claim")]
    Task<bool> Claim(string userId);

    [Alias("GetOwner")]
    Task<string?> GetOwner();
}

public enum KeyStatus
{
    Active = 1,
    Frozen = 2,
}

/// <summary>The public facts about a key; <see cref="CertificateChain"/> is leaf first, DER, empty when none was set.</summary>
[GenerateSerializer, Immutable, Alias("mpc.KeySummary")]
public sealed record KeySummary(
    [property: Id(0)] string KeyId,
    [property: Id(1)] CurveKind Curve,
    [property: Id(2)] byte[] PublicKey,
    [property: Id(3)] KeyStatus Status,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] byte[][] CertificateChain,
    [property: Id(6)] bool Imported = false);

/// <summary>
/// Which device's share pair a call uses. An empty device id means the key's first device, "primary"; an empty
/// share id skips the staleness check until the device has been refreshed.
/// </summary>
[GenerateSerializer, Immutable, Alias("mpc.DeviceShare")]
public sealed record DeviceShare(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] byte[] ShareId);

/// <summary>
/// A device refresh to begin. <see cref="Purpose"/> is the protocol's own <see cref="RefreshPurpose"/> (translated once, from
/// the wire, by the front end); <see cref="RefreshPurpose.Import"/> is refused here: an import begins with <see cref="ImportStart"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("mpc.RefreshStart")]
public sealed record RefreshStart(
    [property: Id(0)] DeviceShare Source,
    [property: Id(1)] RefreshPurpose Purpose,
    [property: Id(2)] string Label,
    [property: Id(3)] byte[] Request);

[GenerateSerializer, Immutable, Alias("mpc.ImportStart")]
public sealed record ImportStart(
    [property: Id(0)] CurveKind Curve,
    [property: Id(1)] byte[] PublicKey,
    [property: Id(2)] byte[] SeedShare,
    [property: Id(3)] byte[][] CertificateChain,
    [property: Id(4)] string Label,
    [property: Id(5)] byte[] Request)
{
    public override string ToString() => $"ImportStart(curve {Curve}, {CertificateChain.Length} certificates)";
}

[GenerateSerializer, Immutable, Alias("mpc.RefreshStarted")]
public sealed record RefreshStarted(
    [property: Id(0)] string RefreshId,
    [property: Id(1)] byte[] Commitment);

[GenerateSerializer, Immutable, Alias("mpc.RefreshCompletion")]
public sealed record RefreshCompletion(
    [property: Id(0)] KeySummary Key,
    [property: Id(1)] DeviceSummary Device);

/// <summary>The public facts about one device's share pair.</summary>
[GenerateSerializer, Immutable, Alias("mpc.DeviceSummary")]
public sealed record DeviceSummary(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Label,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset? RefreshedAt,
    [property: Id(5)] DateTimeOffset? RevokedAt,
    [property: Id(6)] bool MustRefresh,
    [property: Id(7)] byte[] ShareId);

[GenerateSerializer, Immutable, Alias("mpc.KeyGenCompletion")]
public sealed record KeyGenCompletion(
    [property: Id(0)] byte[] ServerShare,
    [property: Id(1)] KeySummary Key);

[GenerateSerializer, Immutable, Alias("mpc.SignCompletion")]
public sealed record SignCompletion(
    [property: Id(0)] byte[] Result,
    [property: Id(1)] byte[]? NextCommitment);
