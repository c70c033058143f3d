namespace Mpc.Grains;

/// <summary>
/// One grain per user: the server's side of every key the user owns. Protocol payloads are the protocol's
/// wire encoding (docs/protocol.md); the grain decodes and validates them. Non-reentrant: one call at a time.
/// </summary>
[Alias("mpc.IUserKeysGrain")]
public interface IUserKeysGrain : IGrainWithStringKey
{
    /// <summary>Key generation rounds 1 → 2 for a key id already reserved for this user.</summary>
    [Alias("BeginKeyGen")]
    Task<byte[]> BeginKeyGen(string keyId, [Immutable] byte[] request);

    /// <summary>Key generation rounds 3 → 4; the sealed share is stored before this returns.</summary>
    [Alias("CompleteKeyGen")]
    Task<KeyGenCompletion> CompleteKeyGen(string keyId, [Immutable] byte[] clientShare);

    /// <summary>Signing round 1: a fresh commitment (SignCommitment encoding).</summary>
    [Alias("BeginSign")]
    Task<byte[]> BeginSign(string keyId);

    /// <summary>Signing rounds 2 → 3 (SignNonce → SignOpening).</summary>
    [Alias("SignNonce")]
    Task<byte[]> SignNonce(string keyId, [Immutable] byte[] nonce);

    /// <summary>Signing rounds 4 → 5 (SignCiphertext → SignResult), optionally with the next commitment.</summary>
    [Alias("SignFinish")]
    Task<SignCompletion> SignFinish(string keyId, [Immutable] byte[] sessionId, [Immutable] byte[] ciphertext, bool wantNextCommitment);

    [Alias("GetKey")]
    Task<KeySummary?> GetKey(string keyId);

    [Alias("ListKeys")]
    Task<IReadOnlyList<KeySummary>> ListKeys();

    /// <summary>
    /// Replaces the key's certificate chain (leaf first, DER). Refused (InvalidArgument) unless every certificate
    /// parses, the chain is ordered and the leaf certifies exactly this key's public key. Allowed on frozen keys.
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
    [property: Id(1)] int Curve,
    [property: Id(2)] byte[] PublicKey,
    [property: Id(3)] KeyStatus Status,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] byte[][] CertificateChain);

[GenerateSerializer, Immutable, Alias("mpc.KeyGenCompletion")]
public sealed record KeyGenCompletion(
    [property: Id(0)] byte[] ServerShare,
    [property: Id(1)] KeySummary Key);

[GenerateSerializer, Immutable, Alias("mpc.SignCompletion")]
public sealed record SignCompletion(
    [property: Id(0)] byte[] Result,
    [property: Id(1)] byte[]? NextCommitment);
