namespace Mpc.Crypto;

/// <summary>Why a message, proof or parameter was refused. Stable: transports map these to status codes.</summary>
public enum MpcErrorCode
{
    MalformedMessage = 1,
    InvalidPoint,
    ScalarOutOfRange,
    InvalidCiphertext,
    InvalidPaillierModulus,
    PaillierModulusTooSmall,
    InvalidRingPedersenParameters,
    ProofFailed,
    CommitmentMismatch,
    SessionMismatch,
    UnexpectedMessage,
    UnsupportedCurve,
    InvalidDigest,
    SignatureCheckFailed,
    BackendUnavailable,
}

/// <summary>
/// The one exception type for refused protocol input. Messages name what failed, never a secret value.
/// </summary>
public sealed class MpcProtocolException : Exception
{
    public MpcProtocolException(MpcErrorCode code, string message) : base(message) => Code = code;

    public MpcErrorCode Code { get; }
}

/// <summary>Central place errors are raised from, so every refusal reads the same way.</summary>
internal static class Error
{
    public static MpcProtocolException Malformed(string what) =>
        new(MpcErrorCode.MalformedMessage, $"Malformed message: {what}.");

    public static MpcProtocolException ProofFailed(string proof, string check) =>
        new(MpcErrorCode.ProofFailed, $"{proof} proof rejected: {check}.");

    public static MpcProtocolException Of(MpcErrorCode code, string message) => new(code, message);
}
