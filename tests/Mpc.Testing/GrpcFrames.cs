using System.Buffers.Binary;
using Google.Protobuf;

namespace Mpc.Testing;

/// <summary>gRPC bodies edited on the wire by a test's DelegatingHandler (an older server, a lying one).</summary>
public static class GrpcFrames
{
    /// <summary>One gRPC-framed message (a 5-byte header, then the message), parsed, edited and framed again.</summary>
    public static async Task<HttpContent> Edited<T>(HttpContent original, MessageParser<T> parser, Action<T> edit, CancellationToken cancellationToken)
        where T : IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(edit);
        byte[] framed = await original.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        T message = parser.ParseFrom(framed.AsSpan(5));
        edit(message);
        byte[] body = message.ToByteArray();
        byte[] frame = new byte[5 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
        body.CopyTo(frame, 5);
        var content = new ByteArrayContent(frame);
        foreach (KeyValuePair<string, IEnumerable<string>> header in original.Headers)
        {
            content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        content.Headers.ContentLength = frame.Length;
        return content;
    }
}
