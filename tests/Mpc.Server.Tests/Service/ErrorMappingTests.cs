using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mpc.Crypto;
using Mpc.Grains;
using Mpc.Grains.Abstractions;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// The server's interceptor (the one the host installs) gives a protocol exception that reaches it unwrapped the same
/// status as the grains give the same refusal: one mapping for the whole service.
/// </summary>
public sealed class ErrorMappingTests
{
    [Theory]
    [InlineData(MpcErrorCode.UnexpectedMessage, StatusCode.FailedPrecondition, "UNEXPECTED_MESSAGE")]
    [InlineData(MpcErrorCode.BackendUnavailable, StatusCode.Internal, "BACKEND_UNAVAILABLE")]
    [InlineData(MpcErrorCode.MalformedMessage, StatusCode.InvalidArgument, "MALFORMED_MESSAGE")]
    [InlineData(MpcErrorCode.ProofFailed, StatusCode.InvalidArgument, "PROOF_FAILED")]
    public async Task A_protocol_exception_gets_the_status_and_reason_the_grains_give_it(MpcErrorCode code, StatusCode status, string reason)
    {
        var thrown = new MpcProtocolException(code, "refused for the test");

        RpcException e = await Assert.ThrowsAsync<RpcException>(() => Interceptor().UnaryServerHandler<string, string>(
            "request", new CallContext(), (_, _) => throw thrown));

        Assert.Equal(status, e.StatusCode);
        Assert.Equal("refused for the test", e.Status.Detail);
        Assert.Equal(reason, e.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason);
        // The grains' mapping of the same refusal, which the interceptor must agree with.
        SignerException inGrain = SignerErrors.From(thrown);
        Assert.Equal(reason, inGrain.Reason);
        Assert.Equal(status, inGrain.Kind switch
        {
            SignerErrorKind.InvalidArgument => StatusCode.InvalidArgument,
            SignerErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
            _ => StatusCode.Internal,
        });
    }

    /// <summary>The host's ErrorMappingInterceptor (internal to the server; its base class is gRPC's public one).</summary>
    private static Interceptor Interceptor()
    {
        Type type = typeof(MpcServerHost).Assembly.GetType("Mpc.Server.ErrorMappingInterceptor", throwOnError: true)!;
        object logger = Activator.CreateInstance(typeof(Logger<>).MakeGenericType(type), NullLoggerFactory.Instance)!;
        return (Interceptor)Activator.CreateInstance(type, logger)!;
    }

    /// <summary>Just enough of a call for the interceptor, which reads only the method name.</summary>
    private sealed class CallContext : ServerCallContext
    {
        protected override string MethodCore => "/mpc.transport.v1.Signer/Test";

        protected override string HostCore => "localhost";

        protected override string PeerCore => "ipv4:127.0.0.1:1";

        protected override DateTime DeadlineCore => DateTime.MaxValue;

        protected override Metadata RequestHeadersCore { get; } = [];

        protected override CancellationToken CancellationTokenCore => CancellationToken.None;

        protected override Metadata ResponseTrailersCore { get; } = [];

        protected override Grpc.Core.Status StatusCore { get; set; }

        protected override WriteOptions? WriteOptionsCore { get; set; }

        protected override AuthContext AuthContextCore => new(null, []);

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
