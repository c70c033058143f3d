using System.Buffers.Binary;

namespace Mpc.Testing;

/// <summary>
/// A server whose replies to one method are whatever the test says: each reply message to a call whose path ends with
/// <paramref name="methodSuffix"/> is handed to <see cref="Reply"/> (the real reply's bytes in, the bytes to send out),
/// then framed again. For malformed and mutated replies (<see cref="Mutations"/>) reaching the SDK as a server's would.
/// </summary>
public sealed class ReplacedGrpcReplies(string methodSuffix) : DelegatingHandler(new SocketsHttpHandler())
{
    /// <summary>The real reply message (without its 5-byte frame header) to the message sent instead; the identity by default.</summary>
    public Func<byte[], byte[]> Reply { get; set; } = message => message;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!request.RequestUri!.AbsolutePath.EndsWith(methodSuffix, StringComparison.Ordinal) || !response.IsSuccessStatusCode)
        {
            return response;
        }
        byte[] framed = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (framed.Length < 5)
        {
            // No message (a refusal in the trailers): nothing to replace.
            return response;
        }
        byte[] body = Reply(framed[5..]);
        byte[] frame = new byte[5 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
        body.CopyTo(frame, 5);
        var content = new ByteArrayContent(frame);
        foreach (KeyValuePair<string, IEnumerable<string>> header in response.Content.Headers)
        {
            content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        content.Headers.ContentLength = frame.Length;
        response.Content = content;
        return response;
    }
}
