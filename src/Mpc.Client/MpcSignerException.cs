using Grpc.Core;

namespace Mpc.Client;

/// <summary>The server refused a call. <see cref="Status"/> says why (NotFound, FailedPrecondition for a frozen key, ...).</summary>
public sealed class MpcSignerException : Exception
{
    public MpcSignerException(StatusCode status, string message, Exception? inner = null) : base(message, inner) => Status = status;

    public MpcSignerException()
    {
    }

    public MpcSignerException(string message) : base(message)
    {
    }

    public MpcSignerException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public StatusCode Status { get; }

    /// <summary>The one translation of a server's refusal into the message a user reads.</summary>
    internal static MpcSignerException From(RpcException e) => new(e.StatusCode, $"{e.StatusCode}: {Explain(e)}", e);

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
/// A refresh (or import, enrolment, backup, restore) whose confirmation was sent but whose outcome is unknown: the
/// call was cancelled, timed out, failed in transport or storage, or the server's answer did not check out. The
/// server may already hold the new pair, so <see cref="PendingShare"/> is the share to keep (beside the old one)
/// until a signature shows which one the server accepts. Dispose it when it is no longer needed.
/// </summary>
public sealed class MpcRefreshOutcomeUnknownException : Exception
{
    public MpcRefreshOutcomeUnknownException(Protocol.Keys.ClientKeyShare pendingShare, Exception inner)
        : base($"The refresh may or may not have completed: {inner.Message}", inner) => PendingShare = pendingShare;

    public MpcRefreshOutcomeUnknownException()
    {
    }

    public MpcRefreshOutcomeUnknownException(string message) : base(message)
    {
    }

    public MpcRefreshOutcomeUnknownException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The new client share the server may now hold. Never printed.</summary>
    public Protocol.Keys.ClientKeyShare? PendingShare { get; }

    /// <summary>
    /// True for the server's refusals that prove it stored nothing (the request was checked and turned down before
    /// any write). Internal errors, timeouts, cancellation and transport failures prove nothing.
    /// </summary>
    internal static bool ProvesNothingStored(Exception e) => e is MpcSignerException
    {
        Status: StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.FailedPrecondition or StatusCode.PermissionDenied
            or StatusCode.Unauthenticated or StatusCode.ResourceExhausted,
    };
}
