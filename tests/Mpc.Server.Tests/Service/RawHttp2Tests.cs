using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Server;
using Mpc.Transport.V1;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// Requests built byte by byte and sent over a real HTTP/2 connection (no generated client): undecodable bodies are
/// InvalidArgument on every method, oversized ones ResourceExhausted, and a huge identifier is not echoed back.
/// </summary>
[Collection("server")]
public sealed class RawHttp2Tests(ServerFixture server) : IDisposable
{
    private const string User = "raw-http2";
    private readonly HttpClient _http = new(new SocketsHttpHandler());

    public static TheoryData<string> SignerMethods => [.. Signer.Descriptor.Methods.Select(m => m.Name)];

    private static MethodDescriptor Method(string name) => Signer.Descriptor.FindMethodByName(name);

    private static byte[] Frame(ReadOnlySpan<byte> message, uint? declaredLength = null)
    {
        byte[] frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength ?? (uint)message.Length);
        message.CopyTo(frame.AsSpan(5));
        return frame;
    }

    /// <summary>Posts <paramref name="body"/> as-is to the method and returns grpc-status and grpc-message (trailers or trailers-only headers).</summary>
    private async Task<(StatusCode Status, string Message, int MessageHeaderLength)> Post(string method, byte[] body, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Address, $"/mpc.signer.v1.Signer/{method}"))
        {
            Content = new ByteArrayContent(body),
            // HTTP/2 with prior knowledge over cleartext, as gRPC clients speak it.
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using HttpResponseMessage response = await _http.SendAsync(request);
        Assert.Equal(HttpVersion.Version20, response.Version);
        await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            return (StatusCode.Unauthenticated, "", 0);
        }
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string? status = Header(response, "grpc-status");
        Assert.NotNull(status);
        string message = Uri.UnescapeDataString(Header(response, "grpc-message") ?? "");
        return ((StatusCode)int.Parse(status, System.Globalization.CultureInfo.InvariantCulture), message, (Header(response, "grpc-message") ?? "").Length);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.TrailingHeaders.TryGetValues(name, out IEnumerable<string>? values) || response.Headers.TryGetValues(name, out values)
            ? values.First()
            : null;

    /// <summary>Random bytes that the method's request type really cannot parse (most random strings cannot).</summary>
    private static byte[] UnparsableRandomBytes(MessageDescriptor type)
    {
        while (true)
        {
            byte[] candidate = RandomNumberGenerator.GetBytes(200);
            try
            {
                type.Parser.ParseFrom(candidate);
            }
            catch (InvalidProtocolBufferException)
            {
                return candidate;
            }
        }
    }

    [Theory]
    [MemberData(nameof(SignerMethods))]
    public async Task Random_bytes_in_a_frame_are_invalid_argument_on_every_method(string method)
    {
        (StatusCode status, string message, _) = await Post(method, Frame(UnparsableRandomBytes(Method(method).InputType)), server.Token(User));
        Assert.Equal(StatusCode.InvalidArgument, status);
        Assert.Contains(Method(method).InputType.Name, message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(SignerMethods))]
    public async Task A_truncated_message_is_invalid_argument_on_every_method(string method)
    {
        // A length-delimited field (tag 1, wire type 2) that promises 100 bytes and carries 10.
        byte[] truncated = [0x0A, 100, .. RandomNumberGenerator.GetBytes(10)];
        Assert.Throws<InvalidProtocolBufferException>(() => Method(method).InputType.Parser.ParseFrom(truncated));
        Assert.Equal(StatusCode.InvalidArgument, (await Post(method, Frame(truncated), server.Token(User))).Status);
    }

    [Fact]
    public async Task Bodies_that_are_not_one_frame_are_invalid_argument()
    {
        string token = server.Token(User);
        byte[] valid = new BeginSignRequest { KeyId = "k" }.ToByteArray();
        Assert.Equal(StatusCode.InvalidArgument, (await Post("BeginSign", RandomNumberGenerator.GetBytes(3), token)).Status);
        Assert.Equal(StatusCode.InvalidArgument, (await Post("BeginSign", [], token)).Status);
        // The frame promises more bytes than the body has (a truncated body), or fewer (two frames / trailing bytes).
        Assert.Equal(StatusCode.InvalidArgument, (await Post("BeginSign", Frame(valid, (uint)valid.Length + 10), token)).Status);
        Assert.Equal(StatusCode.InvalidArgument, (await Post("BeginSign", [.. Frame(valid), .. Frame(valid)], token)).Status);
        // A compressed frame without a negotiated encoding.
        byte[] compressed = Frame(valid);
        compressed[0] = 1;
        Assert.Equal(StatusCode.InvalidArgument, (await Post("BeginSign", compressed, token)).Status);
    }

    [Fact]
    public async Task Oversized_bodies_are_resource_exhausted_whatever_the_frame_header_says()
    {
        string token = server.Token(User);
        byte[] huge = new BeginKeyGenRequest { Request = ByteString.CopyFrom(new byte[MpcServerHost.MaxReceiveMessageBytes + 1]) }.ToByteArray();
        Assert.Equal(StatusCode.ResourceExhausted, (await Post("BeginKeyGen", Frame(huge), token)).Status);
        // A frame header that claims little, on a body far over the limit (past Kestrel's own body limit too).
        Assert.Equal(StatusCode.ResourceExhausted, (await Post("BeginKeyGen", Frame(new byte[2 * MpcServerHost.MaxReceiveMessageBytes], 10), token)).Status);
        // Just a header that claims too much.
        Assert.Equal(StatusCode.ResourceExhausted, (await Post("SignNonce", Frame([], uint.MaxValue), token)).Status);
    }

    [Fact]
    public async Task Undecodable_bodies_from_an_anonymous_caller_are_unauthenticated_first()
    {
        Assert.Equal(StatusCode.Unauthenticated, (await Post("BeginSign", Frame(UnparsableRandomBytes(Method("BeginSign").InputType)), token: null)).Status);
    }

    [Fact]
    public async Task A_ten_kilobyte_device_id_is_refused_without_being_echoed()
    {
        using MpcSignerClient client = server.Client(User);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        string hugeId = new('d', 10 * 1024);
        string token = server.Token(User);
        foreach ((string method, IMessage request) in new (string, IMessage)[]
        {
            ("BeginSign", new BeginSignRequest { KeyId = key.KeyId, DeviceId = hugeId }),
            ("RevokeDevice", new RevokeDeviceRequest { KeyId = key.KeyId, DeviceId = hugeId }),
            ("BeginRefresh", new BeginRefreshRequest { KeyId = key.KeyId, DeviceId = hugeId, Purpose = RefreshPurpose.Refresh }),
        })
        {
            (StatusCode status, string message, int headerLength) = await Post(method, Frame(request.ToByteArray()), token);
            Assert.Equal(StatusCode.NotFound, status);
            Assert.DoesNotContain(new string('d', 65), message, StringComparison.Ordinal);
            Assert.InRange(headerLength, 1, 512);
            Assert.Contains(new string('d', 64) + "…", message, StringComparison.Ordinal);
        }

        // SignNonce checks the device through the session it names (the session binds the device), so this undecodable
        // nonce is refused as malformed before any device lookup, and the id is not echoed either.
        (StatusCode nonceStatus, string nonceMessage, int nonceHeader) = await Post(
            "SignNonce", Frame(new SignNonceRequest { KeyId = key.KeyId, DeviceId = hugeId, Nonce = ByteString.CopyFrom(new byte[8]) }.ToByteArray()), token);
        Assert.Equal(StatusCode.InvalidArgument, nonceStatus);
        Assert.DoesNotContain(new string('d', 65), nonceMessage, StringComparison.Ordinal);
        Assert.InRange(nonceHeader, 1, 512);
    }

    public void Dispose() => _http.Dispose();
}
