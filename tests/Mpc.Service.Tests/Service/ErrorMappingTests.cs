using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Mpc.Crypto;
using Mpc.Server;
using Xunit;

namespace Mpc.Service.Tests.Service;

/// <summary>The one mapping from server-side failures to gRPC status codes, exercised with the exceptions the layers below throw.</summary>
public sealed class ErrorMappingTests
{
    private readonly ErrorMappingInterceptor _interceptor = new(NullLogger<ErrorMappingInterceptor>.Instance);

    [Fact]
    public async Task An_orleans_response_timeout_is_unavailable_with_a_retry_hint_not_internal()
    {
        // What Orleans throws when a grain call outlives SiloMessagingOptions.ResponseTimeout (a keygen on a loaded machine).
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => Call(new TimeoutException("Response did not arrive on time in 00:00:10")));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Contains("try again", e.Status.Detail);
        Assert.DoesNotContain("00:00:10", e.Status.Detail);
    }

    [Fact]
    public async Task A_protocol_error_is_invalid_argument_and_anything_unexpected_is_internal_without_details()
    {
        RpcException invalid = await Assert.ThrowsAsync<RpcException>(() => Call(Error.Of(MpcErrorCode.InvalidCiphertext, "ciphertext is not a unit modulo N².")));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Contains("ciphertext is not a unit", invalid.Status.Detail);

        RpcException internalError = await Assert.ThrowsAsync<RpcException>(() => Call(new InvalidOperationException("secret detail 1234")));
        Assert.Equal(StatusCode.Internal, internalError.StatusCode);
        Assert.DoesNotContain("1234", internalError.Status.Detail);
    }

    private Task<string> Call(Exception thrown) =>
        _interceptor.UnaryServerHandler<string, string>("request", new FakeCallContext(), (_, _) => Task.FromException<string>(thrown));

    private sealed class FakeCallContext : ServerCallContext
    {
        protected override string MethodCore => "/mpc.signer.v1.Signer/Test";
        protected override string HostCore => "localhost";
        protected override string PeerCore => "ipv4:127.0.0.1:1";
        protected override DateTime DeadlineCore => DateTime.MaxValue;
        protected override Metadata RequestHeadersCore { get; } = [];
        protected override CancellationToken CancellationTokenCore => CancellationToken.None;
        protected override Metadata ResponseTrailersCore { get; } = [];
        protected override Status StatusCore { get; set; }
        protected override WriteOptions? WriteOptionsCore { get; set; }
        protected override AuthContext AuthContextCore => new(null, []);
        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();
        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
