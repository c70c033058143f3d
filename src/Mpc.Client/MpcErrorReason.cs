namespace Mpc.Client;

/// <summary>
/// Why an SDK operation failed: the stable code of <see cref="MpcSignerException.Reason"/>. Values and names never
/// change (callers and the CLI switch on them). Server refusals carry the reason the server put in the reply's
/// <c>google.rpc.ErrorInfo</c> (its UPPER_SNAKE_CASE form is this enum's name: KEY_FROZEN is <see cref="KeyFrozen"/>);
/// a reply without one is mapped from its status code. Local failures have no <see cref="MpcSignerException.Status"/>.
/// </summary>
public enum MpcErrorReason
{
    /// <summary>A reason this SDK version does not know (a newer server's); <see cref="MpcSignerException.Status"/> still says what kind.</summary>
    Unknown = 0,

    // Server refusals (1-49).

    /// <summary>The server refused a request as invalid (a malformed field, an unknown curve...).</summary>
    InvalidArgument = 1,

    /// <summary>Unknown key, device or session, or a session that has already finished or expired.</summary>
    NotFound = 2,

    /// <summary>The call does not fit the key's state (a round out of order, a revoked device, a key that exists).</summary>
    FailedPrecondition = 3,

    /// <summary>The key is frozen after a failed signature check; an operator must unfreeze it and the device refresh.</summary>
    KeyFrozen = 4,

    /// <summary>The key belongs to another user, or the token lacks the scope.</summary>
    PermissionDenied = 5,

    /// <summary>No token, or the token was refused (expired, wrong audience or issuer...).</summary>
    Unauthenticated = 6,

    /// <summary>A cap on open sessions, devices or stored state was reached.</summary>
    ResourceExhausted = 7,

    /// <summary>
    /// A rate limit was reached: the key's signatures (released or refused), the user's key generations, refreshes,
    /// enrolments, backups, restores and imports (each makes the server a new Paillier key), or the user's certificate
    /// chains set; <see cref="MpcSignerException.RetryAfter"/> says when to try again.
    /// </summary>
    RateLimited = 8,

    /// <summary>The request is larger than the server accepts.</summary>
    RequestTooLarge = 9,

    /// <summary>The request body was not a valid gRPC message for the method.</summary>
    MalformedRequest = 10,

    /// <summary>The server did not answer in time (overloaded, or the call's deadline passed); the call may be retried.</summary>
    Timeout = 11,

    /// <summary>No server answered (refused connection, DNS, TLS...).</summary>
    Unavailable = 12,

    /// <summary>The server failed (storage unavailable...): not the caller's fault.</summary>
    Internal = 13,

    // Protocol checks (50-79): a message, proof or parameter refused, by the server or by this client. The names are
    // those of the protocol layer's error codes.

    /// <summary>A protocol message could not be decoded (truncated, wrong lengths, trailing bytes).</summary>
    MalformedMessage = 50,

    /// <summary>A point not on the curve, or the identity.</summary>
    InvalidPoint = 51,

    /// <summary>A scalar outside [1, q-1].</summary>
    ScalarOutOfRange = 52,

    /// <summary>A Paillier ciphertext outside Z*_{N²}.</summary>
    InvalidCiphertext = 53,

    /// <summary>A Paillier modulus that fails its checks.</summary>
    InvalidPaillierModulus = 54,

    /// <summary>A Paillier modulus below the size bound.</summary>
    PaillierModulusTooSmall = 55,

    /// <summary>Ring-Pedersen parameters that fail their checks, or a share made before signing proofs (refresh it first).</summary>
    InvalidRingPedersenParameters = 56,

    /// <summary>A zero-knowledge proof did not verify.</summary>
    ProofFailed = 57,

    /// <summary>An opening does not match its commitment.</summary>
    CommitmentMismatch = 58,

    /// <summary>A message belongs to another session or key, or the server reports another key or share than the protocol produced.</summary>
    SessionMismatch = 59,

    /// <summary>A message arrived in the wrong round.</summary>
    UnexpectedMessage = 60,

    /// <summary>A curve this product does not support.</summary>
    UnsupportedCurve = 61,

    /// <summary>A digest of the wrong length for the curve.</summary>
    InvalidDigest = 62,

    /// <summary>The final signature (or public key) check failed: the server's answer does not verify.</summary>
    SignatureCheckFailed = 63,

    /// <summary>The big-number backend (OpenSSL) is missing or refused.</summary>
    BackendUnavailable = 64,

    // Refresh (80-99).

    /// <summary>A call whose outcome is unknown: see <see cref="MpcRefreshOutcomeUnknownException"/> (refresh-like calls) and <see cref="MpcKeyGenOutcomeUnknownException"/> (key generation).</summary>
    OutcomeUnknown = 80,

    // Local files: key files (100-119).

    /// <summary>The key file does not exist.</summary>
    KeyFileNotFound = 100,

    /// <summary>The key file is truncated, not JSON, or malformed.</summary>
    KeyFileCorrupt = 101,

    /// <summary>AES-GCM refused a key file, backup or device profile: a wrong passphrase or a modified file (GCM cannot tell which).</summary>
    WrongPassphrase = 102,

    /// <summary>A file asks for weaker Argon2id parameters than this client accepts.</summary>
    KdfDowngrade = 103,

    /// <summary>The key file's protection (passphrase or none) is not the one the caller asked to load.</summary>
    KeyFileProtectionMismatch = 104,

    /// <summary>The key file contradicts itself (public key, ids).</summary>
    KeyFileInconsistent = 105,

    /// <summary>A newer (or unknown) file format version.</summary>
    UnsupportedVersion = 106,

    /// <summary>Another command or program holds the key file's lock (<see cref="KeyStore.KeyFileLock"/>): nothing was read or written.</summary>
    KeyFileInUse = 107,

    // Custody: backups, enrolment requests, handovers, device profiles (120-139).

    /// <summary>A backup, request, handover or profile that is truncated, malformed or inconsistent.</summary>
    CorruptInput = 120,

    /// <summary>A file or token of another kind (a key file given as a backup, a handover given as a request...).</summary>
    WrongKind = 121,

    /// <summary>The enrolment request is older than its lifetime (or dated in the future).</summary>
    Expired = 122,

    /// <summary>
    /// The handover does not belong to this pending enrolment: made for another request or key, modified, or carrying
    /// a share other than the one it names. The pending enrolment is used up (start a new request).
    /// </summary>
    HandoverRejected = 123,

    /// <summary>
    /// A typed code does not match: the confirmation code typed into the existing device is not the request's (nothing
    /// was sealed), or the handover code typed into the new device is not the handover's (nothing was opened, and the
    /// pending enrolment is kept for the genuine handover).
    /// </summary>
    CodeMismatch = 124,

    /// <summary>The request asks for a key other than the one being handed over.</summary>
    WrongKey = 125,

    /// <summary>A device profile made for another device (copied from it): refused, never used or replaced silently.</summary>
    OtherDevice = 126,

    // Importing an existing key (140-159).

    /// <summary>The password does not open the file (for PKCS#12, the integrity MAC does not verify).</summary>
    ImportWrongPassword = 140,

    /// <summary>The key is encrypted and no password was given.</summary>
    ImportPasswordRequired = 141,

    /// <summary>Truncated or structurally broken key file to import.</summary>
    ImportCorrupt = 142,

    /// <summary>Neither PKCS#12 nor a PEM file with a private key block we know.</summary>
    UnrecognisedFormat = 143,

    /// <summary>An RSA key: not supported yet.</summary>
    RsaKey = 144,

    /// <summary>Another algorithm (Ed25519, DSA...).</summary>
    UnsupportedAlgorithm = 145,

    /// <summary>An EC key on a curve other than P-256, P-384 and secp256k1, or with explicit curve parameters.</summary>
    ImportUnsupportedCurve = 146,

    /// <summary>The file holds no private key.</summary>
    NoPrivateKey = 147,

    /// <summary>The file holds more than one private key; which one is meant is the user's choice, not ours.</summary>
    SeveralPrivateKeys = 148,

    /// <summary>The (leaf) certificate certifies another key.</summary>
    CertificateMismatch = 149,

    /// <summary>The key contradicts itself: scalar out of range, or a stored public key that is not d·G.</summary>
    InconsistentKey = 150,

    /// <summary>Old OpenSSL "Proc-Type: 4,ENCRYPTED" PEM encryption, which we do not read.</summary>
    LegacyPemEncryption = 151,

    // Documents (160-).

    /// <summary>A document signature (CMS/CAdES) could not be made or does not verify.</summary>
    DocumentSignature = 160,

    /// <summary>The time-stamping authority did not answer: unreachable, timed out, or an HTTP error status (<see cref="Documents.TimestampAuthority"/>).</summary>
    TimestampUnavailable = 161,

    /// <summary>The time-stamping authority refused the request, or answered with a token that does not match it or does not verify.</summary>
    TimestampRefused = 162,
}
