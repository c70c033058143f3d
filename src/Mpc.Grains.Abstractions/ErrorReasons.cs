using System.Text;
using Mpc.Crypto;

namespace Mpc.Grains.Abstractions;

/// <summary>
/// The stable reason codes the server sends in <c>google.rpc.ErrorInfo.reason</c> (domain <see cref="Domain"/>):
/// UPPER_SNAKE_CASE names that the SDK reads back as its <c>MpcErrorReason</c> of the same name. Never renamed.
/// </summary>
public static class ErrorReasons
{
    /// <summary>The ErrorInfo domain of every refusal this service sends.</summary>
    public const string Domain = "mpc-signer";

    public const string InvalidArgument = "INVALID_ARGUMENT";
    public const string NotFound = "NOT_FOUND";
    public const string FailedPrecondition = "FAILED_PRECONDITION";
    public const string KeyFrozen = "KEY_FROZEN";
    public const string PermissionDenied = "PERMISSION_DENIED";
    public const string Unauthenticated = "UNAUTHENTICATED";
    public const string ResourceExhausted = "RESOURCE_EXHAUSTED";
    public const string RateLimited = "RATE_LIMITED";
    public const string RequestTooLarge = "REQUEST_TOO_LARGE";
    public const string MalformedRequest = "MALFORMED_REQUEST";
    public const string Timeout = "TIMEOUT";
    public const string Internal = "INTERNAL";

    /// <summary>The reason for a refused protocol message: the <see cref="MpcErrorCode"/> name in UPPER_SNAKE_CASE (PROOF_FAILED...).</summary>
    public static string Of(MpcErrorCode code) => UpperSnake(code.ToString());

    /// <summary>The reason a refusal of <paramref name="kind"/> carries when the grain named none.</summary>
    public static string Of(SignerErrorKind kind) => kind switch
    {
        SignerErrorKind.InvalidArgument => InvalidArgument,
        SignerErrorKind.NotFound => NotFound,
        SignerErrorKind.FailedPrecondition => FailedPrecondition,
        SignerErrorKind.PermissionDenied => PermissionDenied,
        SignerErrorKind.ResourceExhausted => ResourceExhausted,
        _ => Internal,
    };

    private static string UpperSnake(string pascal)
    {
        var text = new StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]))
            {
                text.Append('_');
            }
            text.Append(char.ToUpperInvariant(pascal[i]));
        }
        return text.ToString();
    }
}
