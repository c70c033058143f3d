using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Mpc.Crypto;
using Mpc.Grains;

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
            throw new RpcException(new Status(ToStatusCode(e.Kind), e.Message));
        }
        catch (MpcProtocolException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        catch (Exception e) when (e is not RpcException and not OperationCanceledException)
        {
            logger.LogError(e, "Unhandled failure in {Method}", context.Method);
            throw new RpcException(new Status(StatusCode.Internal, "Internal server error."));
        }
    }

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
