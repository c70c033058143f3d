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

    internal static MpcSignerException From(RpcException e) => new(e.StatusCode, $"{e.StatusCode}: {e.Status.Detail}", e);
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
