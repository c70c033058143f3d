using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Mpc.Crypto;
using Mpc.Grains;
using Mpc.Grains.Abstractions;

namespace Mpc.Server;

/// <summary>The one mapping from server-side failures to gRPC status codes.</summary>
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
            throw new RpcException(new Status(ToStatusCode(e.Kind), Detail(e.Message)));
        }
        catch (MpcProtocolException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, Detail(e.Message)));
        }
        catch (TimeoutException e)
        {
            // An Orleans call that outlived its response timeout (a grain busy with key generation on a loaded machine):
            // the request may still finish on the server, but this caller has no answer. Unavailable tells it to retry.
            logger.LogWarning(e, "{Method} timed out inside the server", context.Method);
            throw new RpcException(new Status(StatusCode.Unavailable, TimedOut));
        }
        catch (Exception e) when (e is not RpcException and not OperationCanceledException)
        {
            logger.LogError(e, "Unhandled failure in {Method}", context.Method);
            throw new RpcException(new Status(StatusCode.Internal, "Internal server error."));
        }
    }

    internal const string TimedOut = "The server did not answer in time (it may be overloaded); try again shortly.";

    /// <summary>
    /// Longest status detail sent: identifiers in messages are already cut (<see cref="ClientText"/>); this bounds
    /// anything else, so no reply can exceed a client's metadata limit.
    /// </summary>
    private const int MaxDetailLength = 512;

    private static string Detail(string message) => message.Length <= MaxDetailLength ? message : message[..MaxDetailLength] + "…";

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
