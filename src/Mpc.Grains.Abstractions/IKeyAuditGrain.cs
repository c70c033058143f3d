using Mpc.Crypto.Curves;

namespace Mpc.Grains.Abstractions;

/// <summary>
/// One key's hash-chained audit log: one grain per key id (key ids are unique across users). It is the only
/// writer of that key's chain, so it alone assigns sequence numbers and hashes; callers only hand over events.
/// </summary>
[Alias("mpc.IKeyAuditGrain")]
public interface IKeyAuditGrain : IGrainWithStringKey
{
    /// <summary>
    /// Queues an event for the chain and returns before anything is stored: signing never waits for, or fails
    /// because of, audit storage. Acknowledged (not one-way) so that the sender can hand the event over again
    /// when the audit grain's silo died; an event id already queued or persisted is ignored. Interleaved with a
    /// running flush so a slow store never queues callers.
    /// </summary>
    [Alias("Append")]
    [Orleans.Concurrency.AlwaysInterleave]
    Task Append(AuditEvent auditEvent);

    /// <summary>
    /// Persisted entries from <paramref name="fromSequence"/> (1 = the first), at most <paramref name="maxCount"/>.
    /// Tries to persist queued events first; only persisted entries are returned, so a head hash a caller
    /// remembers can never be rolled back by a crash.
    /// </summary>
    [Alias("Read")]
    Task<AuditPage> Read(long fromSequence, int maxCount);
}

/// <summary>
/// What happened to a key. The numbers are fixed (stored and sent); the chain hashes <see cref="AuditEventNames"/>'
/// text form, so a verifier that does not know a newer kind still verifies it.
/// </summary>
public enum AuditEventKind
{
    KeyGen = 1,
    Sign = 2,
    Freeze = 3,
    Import = 4,
    Refresh = 5,
    DeviceEnrolled = 6,
    DeviceRevoked = 7,
    Unfreeze = 8,
    Backup = 9,
    Restore = 10,
    Certificate = 11,

    /// <summary>The audit grain itself: events were dropped before they could be chained (queue full).</summary>
    AuditGap = 12,
}

/// <summary>The text form of each <see cref="AuditEventKind"/>, as hashed and as sent to clients.</summary>
public static class AuditEventNames
{
    public static string Of(AuditEventKind kind) => kind switch
    {
        AuditEventKind.KeyGen => "keygen",
        AuditEventKind.Sign => "sign",
        AuditEventKind.Freeze => "freeze",
        AuditEventKind.Import => "import",
        AuditEventKind.Refresh => "refresh",
        AuditEventKind.DeviceEnrolled => "device-enrolled",
        AuditEventKind.DeviceRevoked => "device-revoked",
        AuditEventKind.Unfreeze => "unfreeze",
        AuditEventKind.Backup => "backup",
        AuditEventKind.Restore => "restore",
        AuditEventKind.Certificate => "certificate",
        AuditEventKind.AuditGap => "audit-gap",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown audit event kind."),
    };
}

/// <summary>Outcome strings used in the log; other short strings are allowed.</summary>
public static class AuditOutcomes
{
    public const string Ok = "ok";
    public const string Refused = "refused";
    public const string Frozen = "frozen";

    /// <summary>A signing ciphertext refused because its proof failed: nothing was decrypted, the key was not frozen.</summary>
    public const string ProofFailed = "proof-failed";
    public const string RateLimited = "rate-limited";

    /// <summary>A final check cut short (a crash) was re-run from its stored marker and passed: the key stays active.</summary>
    public const string Recovered = "recovered";
    public const string Dropped = "dropped";
}

/// <summary>Device ids used before keys have several devices.</summary>
public static class AuditDevices
{
    /// <summary>The one device a key has today: the holder of the client share.</summary>
    public const string Primary = "primary";

    /// <summary>The server acting on its own (an audit gap).</summary>
    public const string Server = "server";
}

/// <summary>An event not yet in the chain: no sequence number, no hash. <see cref="Digest"/> is null when the event names none.</summary>
[GenerateSerializer, Immutable, Alias("mpc.AuditEvent")]
public sealed record AuditEvent(
    [property: Id(0)] Guid EventId,
    [property: Id(1)] AuditEventKind Kind,
    [property: Id(2)] long TimestampUnixMs,
    [property: Id(3)] string DeviceId,
    [property: Id(4)] Digest? Digest,
    [property: Id(5)] string Outcome,
    [property: Id(6)] string Detail);

/// <summary>
/// One link of the chain, as stored and as returned. <see cref="Hash"/> is Mpc.Protocol.Audit.AuditChain.Hash over
/// every other field except <see cref="EventId"/> (which only lets a writer recognise its own entries after a
/// write with an unknown outcome).
/// </summary>
[GenerateSerializer, Alias("mpc.AuditEntry")]
public sealed class AuditEntry
{
    [Id(0)]
    public long Sequence { get; set; }

    [Id(1)]
    public long TimestampUnixMs { get; set; }

    /// <summary>The text form of the kind (<see cref="AuditEventNames"/>).</summary>
    [Id(2)]
    public string Event { get; set; } = "";

    [Id(3)]
    public string DeviceId { get; set; } = "";

    /// <summary>The digest signed; empty when the event names none.</summary>
    [Id(4)]
    public byte[] Digest { get; set; } = [];

    [Id(5)]
    public string Outcome { get; set; } = "";

    [Id(6)]
    public string Detail { get; set; } = "";

    [Id(7)]
    public byte[] PreviousHash { get; set; } = [];

    [Id(8)]
    public byte[] Hash { get; set; } = [];

    [Id(9)]
    public Guid EventId { get; set; }
}

/// <summary>A page of persisted entries and the persisted head (the last entry's sequence and hash).</summary>
[GenerateSerializer, Immutable, Alias("mpc.AuditPage")]
public sealed record AuditPage(
    [property: Id(0)] IReadOnlyList<AuditEntry> Entries,
    [property: Id(1)] long HeadSequence,
    [property: Id(2)] byte[] HeadHash,
    [property: Id(3)] int Unpersisted);
