namespace Mpc.Grains.Abstractions;

/// <summary>What kind of refusal a grain answered with; the gRPC layer maps each to one status code.</summary>
public enum SignerErrorKind
{
    /// <summary>Malformed or invalid input (InvalidArgument).</summary>
    InvalidArgument = 1,

    /// <summary>Unknown key or session, or a session that has already finished (NotFound).</summary>
    NotFound = 2,

    /// <summary>The key is frozen, or a round arrived out of order (FailedPrecondition).</summary>
    FailedPrecondition = 3,

    /// <summary>The key belongs to another user (PermissionDenied).</summary>
    PermissionDenied = 4,

    /// <summary>Too many open sessions for one key (ResourceExhausted).</summary>
    ResourceExhausted = 5,

    /// <summary>The server failed, for example storage was unavailable (Internal).</summary>
    Internal = 6,
}

/// <summary>A refusal from a grain. Its message is safe to show a caller: it never carries secrets.</summary>
[GenerateSerializer, Alias("mpc.SignerException")]
public sealed class SignerException : Exception
{
    public SignerException(SignerErrorKind kind, string message) : base(message) => Kind = kind;

    public SignerException()
    {
    }

    public SignerException(string message) : base(message)
    {
    }

    public SignerException(string message, Exception innerException) : base(message, innerException)
    {
    }

    [Id(0)]
    public SignerErrorKind Kind { get; private set; } = SignerErrorKind.Internal;

    /// <summary>
    /// The stable reason a client reads from the reply's <c>google.rpc.ErrorInfo</c> (UPPER_SNAKE_CASE, for example
    /// KEY_FROZEN); null lets the server's error mapping derive it from <see cref="Kind"/>.
    /// </summary>
    [Id(1)]
    public string? Reason { get; init; }

    /// <summary>When a refused call may be retried (a rate limit); sent as <c>google.rpc.RetryInfo</c>.</summary>
    [Id(2)]
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// The one mapping from a refused protocol step to a refusal, for the grains and for a protocol exception that reaches
    /// the gRPC front end unwrapped: a round out of order is FailedPrecondition, an unusable big-number backend is the
    /// server's failure (Internal), anything else is the caller's message (InvalidArgument). The reason is the protocol's
    /// error code (PROOF_FAILED, ...).
    /// </summary>
    public static SignerException FromProtocol(Mpc.Crypto.MpcProtocolException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        SignerErrorKind kind = e.Code switch
        {
            Mpc.Crypto.MpcErrorCode.UnexpectedMessage => SignerErrorKind.FailedPrecondition,
            Mpc.Crypto.MpcErrorCode.BackendUnavailable => SignerErrorKind.Internal,
            _ => SignerErrorKind.InvalidArgument,
        };
        return new SignerException(kind, e.Message) { Reason = ErrorReasons.Of(e.Code) };
    }
}
