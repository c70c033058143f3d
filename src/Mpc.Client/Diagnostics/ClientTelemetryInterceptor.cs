using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mpc.Client.Diagnostics;

/// <summary>
/// One activity and one Debug log line per server call (BeginSign, SignNonce, SignFinish, BeginRefresh, ...), a child
/// of the operation's activity, tagged with the method, the request's key id and the gRPC status code. The request
/// and response bodies are never read beyond the key id field.
/// </summary>
internal sealed class ClientTelemetryInterceptor(ILogger? logger) : Interceptor
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        string? keyId = KeyIdOf(request);
        Activity? parent = Activity.Current;
        Activity? activity = ClientTelemetry.Source.StartActivity("mpc.rpc " + context.Method.Name, ActivityKind.Client);
        activity?.SetTag("rpc.system", "grpc");
        activity?.SetTag("rpc.service", context.Method.ServiceName);
        activity?.SetTag("rpc.method", context.Method.Name);
        activity?.SetTag(MpcClientDiagnostics.KeyIdTag, keyId);
        long started = Stopwatch.GetTimestamp();
        AsyncUnaryCall<TResponse> call;
        try
        {
            call = continuation(request, context);
        }
        finally
        {
            // The call is under way (its HTTP request saw this activity); the caller's next call is a sibling, not a child.
            Activity.Current = parent;
        }
        return new AsyncUnaryCall<TResponse>(
            Observe(call.ResponseAsync, context.Method.Name, keyId, activity, started),
            call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    private async Task<TResponse> Observe<TResponse>(Task<TResponse> response, string method, string? keyId, Activity? activity, long started)
    {
        StatusCode status = StatusCode.Unknown;
        try
        {
            TResponse result = await response.ConfigureAwait(false);
            status = StatusCode.OK;
            return result;
        }
        catch (RpcException e)
        {
            status = e.StatusCode;
            throw;
        }
        finally
        {
            if (activity is not null)
            {
                activity.SetTag(MpcClientDiagnostics.StatusCodeTag, status.ToString());
                activity.SetStatus(status == StatusCode.OK ? ActivityStatusCode.Ok : ActivityStatusCode.Error);
                activity.Dispose();
            }
            ClientTelemetry.ServerCallEnded(_logger, method, keyId, status, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>The request's <c>key_id</c> field, when it has one (every per-key call does).</summary>
    private static string? KeyIdOf<TRequest>(TRequest request) =>
        request is IMessage message && message.Descriptor.FindFieldByName("key_id") is { FieldType: Google.Protobuf.Reflection.FieldType.String } field
            ? field.Accessor.GetValue(message) as string is { Length: > 0 } id ? id : null
            : null;
}
