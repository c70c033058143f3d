using Grpc.Core;

namespace Mpc.Client;

/// <summary>
/// The one exception the SDK throws for a failed operation, whether the server refused it (<see cref="Status"/> set,
/// <see cref="Reason"/> from the reply's <c>google.rpc.ErrorInfo</c>), this client refused the server's answer (a proof
/// or final check failed, a malformed reply), or a local file or input was unusable (a key file, backup, handover,
/// imported key or document signature). Switch on <see cref="Reason"/>, never on the message: messages are single
/// lines for people and never contain a secret.
/// </summary>
public class MpcSignerException : Exception
{
    /// <summary>A failure this client detected itself (no server status).</summary>
    public MpcSignerException(MpcErrorReason reason, string message, Exception? innerException = null)
        : base(message, innerException) => Reason = reason;

    /// <summary>A server refusal with <paramref name="status"/>; the reason is the one that status code implies (for tests and mocks).</summary>
    public MpcSignerException(StatusCode status, string message, Exception? innerException = null)
        : this(ReasonOf(status), status, message, null, innerException)
    {
    }

    /// <summary>A server refusal with everything a reply can carry.</summary>
    public MpcSignerException(MpcErrorReason reason, StatusCode? status, string message, TimeSpan? retryAfter, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
        Status = status;
        RetryAfter = retryAfter;
    }

    public MpcSignerException()
    {
    }

    public MpcSignerException(string message) : base(message)
    {
    }

    public MpcSignerException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Why the operation failed: stable, documented on each <see cref="MpcErrorReason"/> value.</summary>
    public MpcErrorReason Reason { get; }

    /// <summary>The gRPC status of the server's reply; null for a failure detected on this side.</summary>
    public StatusCode? Status { get; }

    /// <summary>When the server says the call may be retried (a rate limit's <c>google.rpc.RetryInfo</c>); null otherwise.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The one translation of a server's refusal: status, the reason and retry delay of its google.rpc details, and the message a user reads.</summary>
    internal static MpcSignerException From(RpcException e)
    {
        Google.Rpc.Status? details = null;
        try
        {
            details = e.GetRpcStatus();
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            // A details trailer that does not parse is ignored: the status code still says what kind of refusal it is.
        }
        MpcErrorReason reason = details?.GetDetail<Google.Rpc.ErrorInfo>() is { Domain: ErrorDomain } info
            ? ParseReason(info.Reason) ?? ReasonOf(e.StatusCode)
            : ReasonOf(e.StatusCode);
        TimeSpan? retryAfter = details?.GetDetail<Google.Rpc.RetryInfo>()?.RetryDelay is { } delay ? delay.ToTimeSpan() : null;
        return new(reason, e.StatusCode, $"{e.StatusCode}: {Explain(e)}", retryAfter, e);
    }

    /// <summary>A protocol check that failed on this side (a proof of the server's, a malformed reply, the final signature check).</summary>
    internal static MpcSignerException From(Mpc.Crypto.MpcProtocolException e) =>
        new(Enum.TryParse(e.Code.ToString(), out MpcErrorReason reason) ? reason : MpcErrorReason.Unknown, e.Message, e);

    /// <summary>The ErrorInfo domain of the signing service's refusals; reasons of other domains (a proxy's) are not ours to read.</summary>
    internal const string ErrorDomain = "mpc-signer";

    /// <summary>UPPER_SNAKE_CASE (KEY_FROZEN) to the enum value of the same name (KeyFrozen); null for a reason this version does not know.</summary>
    internal static MpcErrorReason? ParseReason(string reason)
    {
        string pascal = string.Concat(reason.Split('_', StringSplitOptions.RemoveEmptyEntries)
            .Select(word => char.ToUpperInvariant(word[0]) + word[1..].ToLowerInvariant()));
        return pascal.Length > 0 && char.IsLetter(pascal[0]) && Enum.TryParse(pascal, out MpcErrorReason parsed) ? parsed : null;
    }

    private static MpcErrorReason ReasonOf(StatusCode status) => status switch
    {
        StatusCode.InvalidArgument => MpcErrorReason.InvalidArgument,
        StatusCode.NotFound => MpcErrorReason.NotFound,
        StatusCode.FailedPrecondition => MpcErrorReason.FailedPrecondition,
        StatusCode.PermissionDenied => MpcErrorReason.PermissionDenied,
        StatusCode.Unauthenticated => MpcErrorReason.Unauthenticated,
        StatusCode.ResourceExhausted => MpcErrorReason.ResourceExhausted,
        StatusCode.DeadlineExceeded => MpcErrorReason.Timeout,
        StatusCode.Unavailable => MpcErrorReason.Unavailable,
        StatusCode.Internal => MpcErrorReason.Internal,
        _ => MpcErrorReason.Unknown,
    };

    private static string Explain(RpcException e) =>
        e.StatusCode == StatusCode.Unauthenticated && BearerChallenge.Description(e.Trailers) is { } description
            ? BearerChallenge.Explain(description)
            : e.Status.Detail;
}

/// <summary>
/// The server's bearer challenge (RFC 6750 WWW-Authenticate, error_description), which a refused token's reply
/// carries among its trailers: turned into what the user must do.
/// </summary>
internal static partial class BearerChallenge
{
    /// <summary>The error_description of the reply's WWW-Authenticate header, if there is one.</summary>
    public static string? Description(Metadata trailers)
    {
        foreach (Metadata.Entry entry in trailers)
        {
            if (!entry.IsBinary && string.Equals(entry.Key, "www-authenticate", StringComparison.OrdinalIgnoreCase)
                && DescriptionPattern().Match(entry.Value) is { Success: true } match)
            {
                return match.Groups[1].Value;
            }
        }
        return null;
    }

    public static string Explain(string description)
    {
        // JwtBearer writes the expiry in the invariant culture, in UTC: "The token expired at '11/30/2026 16:05:00'".
        if (ExpiredPattern().Match(description) is { Success: true } expired
            && DateTime.TryParse(expired.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out DateTime at))
        {
            return $"token expired at {at:yyyy-MM-dd HH:mm:ss} UTC; get a new token";
        }
        string? why = description switch
        {
            _ when description.StartsWith("The audience ", StringComparison.Ordinal) => "it is for another service (its audience is not this server's)",
            _ when description.StartsWith("The issuer ", StringComparison.Ordinal) => "its issuer is not the identity provider this server trusts",
            _ when description.StartsWith("The signature key was not found", StringComparison.Ordinal) => "it is signed by a key this server does not know",
            _ when description.StartsWith("The signature is invalid", StringComparison.Ordinal) => "its signature is invalid",
            _ when description.StartsWith("The token is not valid before ", StringComparison.Ordinal) => "it is not valid yet (check this device's clock)",
            _ => null,
        };
        return why is null ? $"the token was refused: {description}" : $"the token was refused: {why}; get a token for this server";
    }

    [System.Text.RegularExpressions.GeneratedRegex("error_description=\"([^\"]*)\"")]
    private static partial System.Text.RegularExpressions.Regex DescriptionPattern();

    [System.Text.RegularExpressions.GeneratedRegex("^The token expired at '([^']+)'")]
    private static partial System.Text.RegularExpressions.Regex ExpiredPattern();
}

/// <summary>
/// An operation whose last call was sent but whose outcome is unknown, and which leaves the caller a client share the
/// server may now hold (<see cref="PendingShare"/>): catch this type to keep that share whichever operation it was.
/// The two kinds are <see cref="MpcKeyGenOutcomeUnknownException"/> and <see cref="MpcRefreshOutcomeUnknownException"/>.
/// </summary>
/// <remarks>
/// <see cref="MpcSignerException.Reason"/> is <see cref="MpcErrorReason.OutcomeUnknown"/>; <see cref="MpcSignerException.Status"/>
/// is that of the failed call, if it was one.
/// </remarks>
public abstract class MpcOutcomeUnknownException : MpcSignerException
{
    private protected MpcOutcomeUnknownException(Protocol.Keys.ClientKeyShare pendingShare, string message, Exception inner)
        : base(MpcErrorReason.OutcomeUnknown, (inner as MpcSignerException)?.Status, message, (inner as MpcSignerException)?.RetryAfter, inner) =>
        PendingShare = pendingShare;

    private protected MpcOutcomeUnknownException(string message) : base(MpcErrorReason.OutcomeUnknown, message)
    {
    }

    private protected MpcOutcomeUnknownException(string message, Exception innerException)
        : base(MpcErrorReason.OutcomeUnknown, message, innerException)
    {
    }

    /// <summary>The client share the server may now hold. Never printed.</summary>
    public Protocol.Keys.ClientKeyShare? PendingShare { get; }

    /// <summary>
    /// True for the server's refusals that prove it stored nothing (the request was checked and turned down before
    /// any write). Internal errors, timeouts, cancellation, transport failures and unknown outcomes prove nothing.
    /// </summary>
    internal static bool ProvesNothingStored(Exception e) => e is not MpcOutcomeUnknownException and MpcSignerException
    {
        Status: StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.FailedPrecondition or StatusCode.PermissionDenied
            or StatusCode.Unauthenticated or StatusCode.ResourceExhausted,
    };
}

/// <summary>
/// A refresh (or import, enrolment, backup, restore) whose confirmation was sent but whose outcome is unknown: the
/// call was cancelled, timed out, failed in transport or storage, or the server's answer did not check out. The
/// server may already hold the new pair, so <see cref="MpcOutcomeUnknownException.PendingShare"/> is the share to keep
/// (beside the old one) until a signature shows which one the server accepts. Dispose it when it is no longer needed.
/// </summary>
public sealed class MpcRefreshOutcomeUnknownException : MpcOutcomeUnknownException
{
    public MpcRefreshOutcomeUnknownException(Protocol.Keys.ClientKeyShare pendingShare, Exception inner)
        : base(pendingShare, $"The refresh may or may not have completed: {inner.Message}", inner)
    {
    }

    public MpcRefreshOutcomeUnknownException() : base("The refresh may or may not have completed.")
    {
    }

    public MpcRefreshOutcomeUnknownException(string message) : base(message)
    {
    }

    public MpcRefreshOutcomeUnknownException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// A key generation whose confirmation was sent but whose outcome is unknown: every <c>ConfirmKeyGen</c> failed in a way
/// that does not prove the server stored nothing (cancelled, timed out, lost in transport, a storage error). The server
/// may hold the key, and <see cref="MpcOutcomeUnknownException.PendingShare"/>, already checked against the server's
/// proofs, is the only share that can sign with it: keep it (sealed, like a key file) and settle with
/// <see cref="MpcSignerClient.ConfirmKeyAsync"/>, which stores the key if it still awaits confirmation. Dispose the
/// share when it is no longer needed.
/// </summary>
public sealed class MpcKeyGenOutcomeUnknownException : MpcOutcomeUnknownException
{
    public MpcKeyGenOutcomeUnknownException(string keyId, Protocol.Keys.ClientKeyShare pendingShare, Exception inner)
        : base(pendingShare, $"Key {keyId} may or may not have been stored: {inner.Message}", inner) =>
        KeyId = keyId;

    public MpcKeyGenOutcomeUnknownException() : base("The key generation may or may not have completed.")
    {
    }

    public MpcKeyGenOutcomeUnknownException(string message) : base(message)
    {
    }

    public MpcKeyGenOutcomeUnknownException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The key the server may now hold (the server's id for it).</summary>
    public string? KeyId { get; }
}
