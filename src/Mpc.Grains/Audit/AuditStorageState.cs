using Mpc.Grains.Abstractions;

namespace Mpc.Grains.Audit;

/// <summary>
/// The head record of a key's audit log: the commit point. Entries count as persisted once this record names
/// them. The tail (fewer than <see cref="KeyAuditGrain.SegmentSize"/> entries plus the last batch) lives here;
/// full segments move to their own records, so no write grows with the length of the log.
/// </summary>
[GenerateSerializer, Alias("mpc.AuditHeadState")]
public sealed class AuditHeadState
{
    /// <summary>Entries in the chain (= the last sequence number).</summary>
    [Id(0)]
    public long Count { get; set; }

    /// <summary>The last entry's hash; empty while the chain is empty.</summary>
    [Id(1)]
    public byte[] HeadHash { get; set; } = [];

    /// <summary>Segments written to their own records: they hold sequences 1 .. SealedSegments × SegmentSize.</summary>
    [Id(2)]
    public long SealedSegments { get; set; }

    /// <summary>Entries after the sealed segments, oldest first.</summary>
    [Id(3)]
    public List<AuditEntry> Tail { get; set; } = [];

    public AuditHeadState Copy() => new() { Count = Count, HeadHash = HeadHash, SealedSegments = SealedSegments, Tail = [.. Tail] };
}

/// <summary>One sealed segment: exactly <see cref="KeyAuditGrain.SegmentSize"/> consecutive entries, written once.</summary>
[GenerateSerializer, Alias("mpc.AuditSegmentState")]
public sealed class AuditSegmentState
{
    [Id(0)]
    public List<AuditEntry> Entries { get; set; } = [];
}
