using Google.Protobuf;
using Mpc.Transport.V1;

namespace Mpc.Testing;

/// <summary>
/// A lying server's audit log on the wire: every GetAudit answer gets the head <paramref name="headSequence"/> and
/// the entries <paramref name="page"/> chooses for the from_sequence asked. After <see cref="MaxCalls"/> pages it
/// throws, so that a client that would page forever fails instead of hanging the test.
/// </summary>
public sealed class LyingAuditPages(Func<long, IEnumerable<AuditEntry>> page, long headSequence) : DelegatingHandler(new SocketsHttpHandler())
{
    public const int MaxCalls = 20;

    /// <summary>The server's largest page (GetAuditRequest.max_count 0), which an honest server fills until its head.</summary>
    public const int FullPage = 1000;

    public int Calls { get; private set; }

    /// <summary><paramref name="count"/> entries from <paramref name="from"/> on, readable but not chained (chain checks are not what these lies test).</summary>
    public static IEnumerable<AuditEntry> Entries(long from, int count) => Enumerable.Range(0, count).Select(i => new AuditEntry
    {
        Sequence = from + i, TimestampUnixMs = 1, Event = "sign", DeviceId = "primary", Outcome = "ok",
        PreviousHash = ByteString.CopyFrom(new byte[32]), Hash = ByteString.CopyFrom(new byte[32]),
    });

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.RequestUri!.AbsolutePath.EndsWith("/GetAudit", StringComparison.Ordinal))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        if (++Calls > MaxCalls)
        {
            throw new InvalidOperationException($"the client asked for more than {MaxCalls} pages");
        }
        byte[] framed = await request.Content!.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        long from = GetAuditRequest.Parser.ParseFrom(framed.AsSpan(5)).FromSequence;
        HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        response.Content = await GrpcFrames.Edited(response.Content, GetAuditResponse.Parser, a =>
        {
            a.Entries.Clear();
            a.Entries.Add(page(from));
            a.HeadSequence = headSequence;
        }, cancellationToken).ConfigureAwait(false);
        return response;
    }
}
