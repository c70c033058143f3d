using Mpc.Crypto;
using Mpc.Grains.Abstractions;

namespace Mpc.Grains;

/// <summary>The grains' refusals; a protocol refusal maps through the service's one mapping, <see cref="SignerException.FromProtocol"/>.</summary>
internal static class SignerErrors
{
    public static SignerException From(MpcProtocolException e) => SignerException.FromProtocol(e);

    /// <summary>A c3 whose proof failed: refused before decryption, so the key stays active; the session is spent.</summary>
    public static SignerException CiphertextProofFailed(MpcProtocolException e) =>
        new(SignerErrorKind.InvalidArgument,
            $"The signing ciphertext's proof was refused (ProofFailed: {e.Message}). Nothing was decrypted and the key is not frozen; this signing session is spent, start a new one.")
        {
            Reason = ErrorReasons.Of(MpcErrorCode.ProofFailed),
        };

    public static SignerException UnknownKey(string keyId) => new(SignerErrorKind.NotFound, $"Key '{keyId}' does not exist.");

    public static SignerException UnknownSession() =>
        new(SignerErrorKind.NotFound, "Unknown, expired or finished signing session; start a new one.");

    /// <summary>
    /// Another activation changed which of the key's share pairs may sign after this one read them: the signing session
    /// was made for pairs that may be revoked, replaced or waiting for a refresh. Refused before decryption.
    /// </summary>
    public static SignerException DevicesChanged(string keyId) =>
        new(SignerErrorKind.FailedPrecondition,
            $"The devices of key '{keyId}' were changed (revoked, refreshed, restored or unfrozen) while this signature was in progress; nothing was decrypted. Start a new signature.");

    public static SignerException Frozen(string keyId) =>
        new(SignerErrorKind.FailedPrecondition, $"Key '{keyId}' is frozen after a failed signature check; it must be refreshed before it signs again.")
        {
            Reason = ErrorReasons.KeyFrozen,
        };
}
