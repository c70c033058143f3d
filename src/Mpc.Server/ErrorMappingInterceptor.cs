using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Mpc.Crypto;
using Mpc.Grains;
using Mpc.Grains.Abstractions;

namespace Mpc.Server;

/// <summary>
/// The one mapping from server-side failures to gRPC status codes. Every refusal also carries a
/// <c>google.rpc.Status</c> (trailer grpc-status-details-bin) with a <see cref="ErrorInfo"/> (domain
/// <see cref="ErrorReasons.Domain"/>, a stable reason from <see cref="ErrorReasons"/>, no secrets) and, for a rate limit,
/// a <see cref="RetryInfo"/> with the delay.
/// </summary>
internal sealed class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (SignerException e)
        {
            throw Refusal(ToStatusCode(e.Kind), e.Message, e.Reason ?? ErrorReasons.Of(e.Kind), e.RetryAfter);
        }
        catch (MpcProtocolException e)
        {
            // A protocol refusal that reached this point unwrapped gets the grains' status for it, not a blanket
            // InvalidArgument: an out-of-order round is FailedPrecondition, and a server whose backend failed is not
            // the caller's mistake.
            SignerException refusal = SignerException.FromProtocol(e);
            if (refusal.Kind == SignerErrorKind.Internal)
            {
                logger.LogError(e, "Protocol failure inside the server in {Method}", context.Method);
            }
            throw Refusal(ToStatusCode(refusal.Kind), refusal.Message, refusal.Reason ?? ErrorReasons.Of(refusal.Kind));
        }
        catch (RpcException e) when (e.StatusCode is not StatusCode.OK and not StatusCode.Cancelled && e.GetRpcStatus() is null)
        {
            // A refusal the service raised itself (an unknown key id, a malformed field): same details as any other.
            throw Refusal(e.StatusCode, e.Status.Detail, ReasonOf(e.StatusCode));
        }
        catch (TimeoutException e)
        {
            // An Orleans call that outlived its response timeout (a grain busy with key generation on a loaded machine):
            // the request may still finish on the server, but this caller has no answer. Unavailable tells it to retry.
            logger.LogWarning(e, "{Method} timed out inside the server", context.Method);
            throw Refusal(StatusCode.Unavailable, TimedOut, ErrorReasons.Timeout);
        }
        catch (Exception e) when (e is not RpcException and not OperationCanceledException)
        {
            logger.LogError(e, "Unhandled failure in {Method}", context.Method);
            throw Refusal(StatusCode.Internal, "Internal server error.", ErrorReasons.Internal);
        }
    }

    /// <summary>The reply to a refused call: its status code and detail, with the reason (and retry delay) as google.rpc details.</summary>
    internal static RpcException Refusal(StatusCode code, string message, string reason, TimeSpan? retryAfter = null)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = Detail(message) };
        status.Details.Add(Any.Pack(new ErrorInfo { Reason = reason, Domain = ErrorReasons.Domain }));
        if (retryAfter is { } delay)
        {
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(delay) }));
        }
        return status.ToRpcException();
    }

    internal const string TimedOut = "The server did not answer in time (it may be overloaded); try again shortly.";

    /// <summary>
    /// Longest status detail sent: identifiers in messages are already cut (<see cref="ClientText"/>); this bounds
    /// anything else, so no reply can exceed a client's metadata limit.
    /// </summary>
    private const int MaxDetailLength = 512;

    private static string Detail(string message) => message.Length <= MaxDetailLength ? message : message[..MaxDetailLength] + "…";

    private static string ReasonOf(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument => ErrorReasons.InvalidArgument,
        StatusCode.NotFound => ErrorReasons.NotFound,
        StatusCode.FailedPrecondition => ErrorReasons.FailedPrecondition,
        StatusCode.PermissionDenied => ErrorReasons.PermissionDenied,
        StatusCode.Unauthenticated => ErrorReasons.Unauthenticated,
        StatusCode.ResourceExhausted => ErrorReasons.ResourceExhausted,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => ErrorReasons.Timeout,
        _ => ErrorReasons.Internal,
    };

    public static StatusCode ToStatusCode(SignerErrorKind kind) => kind switch
    {
        SignerErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        SignerErrorKind.NotFound => StatusCode.NotFound,
        SignerErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        SignerErrorKind.PermissionDenied => StatusCode.PermissionDenied,
        SignerErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
        _ => StatusCode.Internal,
    };
}
