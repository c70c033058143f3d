using Google.Protobuf;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Transport.V1;

namespace Mpc.Server;

/// <summary>Grain audit pages to their gRPC form.</summary>
internal static class AuditMapping
{
    public static GetAuditResponse ToResponse(AuditPage page)
    {
        var response = new GetAuditResponse
        {
            HeadSequence = page.HeadSequence,
            HeadHash = ByteString.CopyFrom(page.HeadHash),
            Unpersisted = page.Unpersisted,
        };
        response.Entries.AddRange(page.Entries.Select(e => new Transport.V1.AuditEntry
        {
            Sequence = e.Sequence,
            TimestampUnixMs = e.TimestampUnixMs,
            Event = e.Event,
            DeviceId = e.DeviceId,
            Digest = ByteString.CopyFrom(e.Digest),
            Outcome = e.Outcome,
            Detail = e.Detail,
            PreviousHash = ByteString.CopyFrom(e.PreviousHash),
            Hash = ByteString.CopyFrom(e.Hash),
        }));
        return response;
    }
}
