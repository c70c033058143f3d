using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Frozen;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Mpc.Transport.V1;

namespace Mpc.Server;

/// <summary>
/// Checks the body of every call to the service's own methods before gRPC reads it, so that a request nobody can
/// decode is answered with a status that says so: one uncompressed gRPC frame, whose length matches the body,
/// within <see cref="MpcServerHost.MaxReceiveMessageBytes"/> (else ResourceExhausted), that parses as the method's
/// request message (else InvalidArgument). gRPC deserialises before any interceptor runs and answers a parse
/// failure with UNKNOWN "Exception was thrown by handler"; a body over Kestrel's limit reached some clients as
/// UNKNOWN too. Runs after authentication and authorisation, so an anonymous caller learns nothing from it.
/// </summary>
internal sealed class MalformedRequestMiddleware(RequestDelegate next)
{
    private const int FrameHeaderLength = 5;

    private static readonly FrozenDictionary<string, MessageDescriptor> RequestTypes =
        new[] { Signer.Descriptor, SignerAdmin.Descriptor }
            .SelectMany(service => service.Methods)
            .ToFrozenDictionary(method => $"/{method.Service.FullName}/{method.Name}", method => method.InputType, StringComparer.Ordinal);

    public async Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method)
            || !RequestTypes.TryGetValue(context.Request.Path.Value ?? "", out MessageDescriptor? requestType)
            || context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
        {
            await next(context);
            return;
        }
        (StatusCode Code, string Message)? refusal;
        byte[] body;
        try
        {
            (refusal, body) = await ReadFrame(context.Request.BodyReader, context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            (refusal, body) = (TooLarge, []);
        }
        if (refusal is null)
        {
            try
            {
                requestType.Parser.ParseFrom(body.AsSpan(FrameHeaderLength));
            }
            catch (InvalidProtocolBufferException)
            {
                refusal = (StatusCode.InvalidArgument, $"The request body is not a valid {requestType.Name} message.");
            }
        }
        if (refusal is { } refused)
        {
            Refuse(context, refused.Code, refused.Message);
            return;
        }
        // gRPC reads the body again from here.
        context.Request.Body = new MemoryStream(body, writable: false);
        context.Features.Set<IRequestBodyPipeFeature>(new RequestBodyPipeFeature(context));
        await next(context);
    }

    private static (StatusCode, string) TooLarge =>
        (StatusCode.ResourceExhausted, $"The request is larger than the server's limit of {MpcServerHost.MaxReceiveMessageBytes} bytes.");

    /// <summary>The whole body as one frame, or the refusal; stops reading as soon as the frame is known to be too large.</summary>
    private static async Task<((StatusCode, string)?, byte[])> ReadFrame(System.IO.Pipelines.PipeReader reader, CancellationToken cancellationToken)
    {
        const long maxBody = FrameHeaderLength + MpcServerHost.MaxReceiveMessageBytes;
        while (true)
        {
            System.IO.Pipelines.ReadResult read = await reader.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (buffer.Length >= FrameHeaderLength)
            {
                Span<byte> header = stackalloc byte[FrameHeaderLength];
                buffer.Slice(0, FrameHeaderLength).CopyTo(header);
                if (BinaryPrimitives.ReadUInt32BigEndian(header[1..]) > MpcServerHost.MaxReceiveMessageBytes)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    return (TooLarge, []);
                }
            }
            if (buffer.Length > maxBody)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return (TooLarge, []);
            }
            if (!read.IsCompleted)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            byte[] body = buffer.ToArray();
            reader.AdvanceTo(buffer.End);
            return (Check(body), body);
        }
    }

    private static (StatusCode, string)? Check(byte[] body)
    {
        if (body.Length < FrameHeaderLength)
        {
            return (StatusCode.InvalidArgument, "The request body is not a gRPC message frame.");
        }
        if (body[0] != 0)
        {
            return (StatusCode.InvalidArgument, "Compressed or unknown gRPC frames are not accepted.");
        }
        uint length = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1));
        return length == body.Length - FrameHeaderLength
            ? null
            : (StatusCode.InvalidArgument, "The request body is not exactly one gRPC message (truncated, or more than one frame).");
    }

    /// <summary>A trailers-only gRPC response: HTTP 200 with the status in the headers, no message.</summary>
    private static void Refuse(HttpContext context, StatusCode code, string message)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = message;
        // The same google.rpc details as every other refusal (ErrorMappingInterceptor.Refusal), in the same trailer.
        RpcException refusal = ErrorMappingInterceptor.Refusal(code, message,
            code == StatusCode.ResourceExhausted ? Grains.Abstractions.ErrorReasons.RequestTooLarge : Grains.Abstractions.ErrorReasons.MalformedRequest);
        foreach (Metadata.Entry entry in refusal.Trailers)
        {
            context.Response.Headers[entry.Key] = Convert.ToBase64String(entry.ValueBytes);
        }
    }
}
