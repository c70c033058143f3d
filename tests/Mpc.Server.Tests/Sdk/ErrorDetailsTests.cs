using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Transport.V1;

namespace Mpc.Server.Tests.Sdk;

/// <summary>
/// The one exception type: server refusals arrive with the google.rpc.ErrorInfo reason the server attached, and
/// checks that fail on this side (a malformed reply) arrive as the same type with their own reason.
/// </summary>
[Collection("server")]
public sealed class ErrorDetailsTests(ServerFixture server)
{
    [Fact]
    public async Task A_refusal_of_the_real_server_carries_ErrorInfo_with_its_stable_reason()
    {
        using MpcSignerClient client = server.Client("error-details-user");
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.GetKeyAsync("no-such-key"));
        Assert.Equal(StatusCode.NotFound, refused.Status);
        Assert.Equal(MpcErrorReason.NotFound, refused.Reason);
        Assert.Null(refused.RetryAfter);

        // On the wire: the details the server attached, not a guess from the status code.
        Google.Rpc.Status details = Assert.IsType<RpcException>(refused.InnerException).GetRpcStatus()!;
        ErrorInfo info = details.GetDetail<ErrorInfo>()!;
        Assert.Equal("NOT_FOUND", info.Reason);
        Assert.Equal("mpc-signer", info.Domain);
        Assert.Equal((int)StatusCode.NotFound, details.Code);
    }

    [Fact]
    public async Task A_signing_round_for_an_unknown_key_carries_ErrorInfo_too()
    {
        using RawSigner raw = server.Raw(server.Token("error-details-raw"));
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => raw.Client.SignNonceAsync(
            new SignNonceRequest { KeyId = "no-such-key", Nonce = ByteString.CopyFrom(new byte[8]), DeviceId = "d", ShareId = ByteString.CopyFrom(new byte[16]) },
            raw.Headers).ResponseAsync);
        ErrorInfo info = e.GetRpcStatus()!.GetDetail<ErrorInfo>()!;
        Assert.Equal("mpc-signer", info.Domain);
        Assert.Equal(MpcSignerException.ParseReason(info.Reason), MpcSignerException.From(e).Reason);
        Assert.NotEqual(MpcErrorReason.Unknown, MpcSignerException.From(e).Reason);
    }

    [Fact]
    public void RetryInfo_becomes_RetryAfter_and_an_unknown_reason_falls_back_to_the_status_code()
    {
        var limited = new Google.Rpc.Status { Code = (int)StatusCode.ResourceExhausted, Message = "slow down" };
        limited.Details.Add(Any.Pack(new ErrorInfo { Reason = "RATE_LIMITED", Domain = "mpc-signer" }));
        limited.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(7)) }));
        MpcSignerException e = MpcSignerException.From(limited.ToRpcException());
        Assert.Equal(MpcErrorReason.RateLimited, e.Reason);
        Assert.Equal(TimeSpan.FromSeconds(7), e.RetryAfter);
        Assert.Equal(StatusCode.ResourceExhausted, e.Status);

        var newer = new Google.Rpc.Status { Code = (int)StatusCode.FailedPrecondition, Message = "?" };
        newer.Details.Add(Any.Pack(new ErrorInfo { Reason = "A_REASON_FROM_THE_FUTURE", Domain = "mpc-signer" }));
        Assert.Equal(MpcErrorReason.FailedPrecondition, MpcSignerException.From(newer.ToRpcException()).Reason);

        var proxy = new Google.Rpc.Status { Code = (int)StatusCode.PermissionDenied, Message = "?" };
        proxy.Details.Add(Any.Pack(new ErrorInfo { Reason = "KEY_FROZEN", Domain = "some-proxy.example" }));
        Assert.Equal(MpcErrorReason.PermissionDenied, MpcSignerException.From(proxy.ToRpcException()).Reason);
    }

    [Fact]
    public async Task A_malformed_server_reply_is_an_MpcSignerException_with_its_reason_and_no_status()
    {
        var reply = new BeginKeyGenResponse { KeyId = "forged-key", Commitment = ByteString.CopyFrom([0x01, 0x02, 0x03]) };
        using var channel = GrpcChannel.ForAddress("http://127.0.0.1:9", new GrpcChannelOptions { HttpHandler = new ReplyHandler(reply) });
        using var client = new MpcSignerClient(channel, _ => ValueTask.FromResult("token"), new MpcSignerClientOptions { DeviceProfileStore = server.DeviceProfiles });
        MpcSignerException e = await Assert.ThrowsAsync<MpcSignerException>(() => client.CreateKeyAsync(CurveKind.P256));
        Assert.Equal(MpcErrorReason.MalformedMessage, e.Reason);
        Assert.Null(e.Status);
        Assert.IsType<Mpc.Crypto.MpcProtocolException>(e.InnerException);
    }

    /// <summary>Answers every call with one gRPC frame holding <paramref name="reply"/> and status OK: a server that lies.</summary>
    private sealed class ReplyHandler(IMessage reply) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            byte[] body = reply.ToByteArray();
            byte[] frame = new byte[5 + body.Length];
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
            body.CopyTo(frame, 5);
            var response = new HttpResponseMessage(HttpStatusCode.OK)
            {
                Version = HttpVersion.Version20,
                Content = new ByteArrayContent(frame),
                RequestMessage = request,
            };
            response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
            response.TrailingHeaders.Add("grpc-status", "0");
            return Task.FromResult(response);
        }
    }
}
