using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Telemetry;
using Mpc.Protocol.Audit;
using Orleans.Storage;

namespace Mpc.Grains.Audit;

/// <summary>
/// Chains and persists one key's audit events, apart from the key grain, so that no audit write is ever on the
/// signing path. Events arrive one-way and wait in memory; a timer (and every read, and deactivation) chains
/// them onto the persisted head and stores them in one ETag-checked write of the head record.
/// </summary>
/// <remarks>
/// <para>Storage: records in the key store's provider, one per grain id: the head (this grain's id, state
/// "audit") holds the count, the head hash and the tail; full segments of <see cref="SegmentSize"/> entries
/// are moved to records of their own ("mpc-keyauditseg/{keyId}/{n}"). Every write is bounded (the tail is
/// under SegmentSize + MaxBatch entries, a segment exactly SegmentSize).</para>
/// <para>The head is the commit point. Only entries already committed are ever sealed into a segment, so any
/// writer (even a stale duplicate activation) writes the same segment content, and a segment written before a
/// crash but not yet dropped from the tail is simply written again. Queued events are chained only when a
/// write is attempted: after a conflict (another activation wrote) or a write whose outcome is unknown (Redis
/// went away), the head is re-read, events already in it (same event id) are dropped from the queue, and the
/// rest are chained onto the new head. Persisted entries are never rewritten.</para>
/// <para>Storage is not touched at activation, so an unavailable store never fails the one-way hand-over;
/// events wait (up to <see cref="MaxQueued"/>) until a write succeeds. A silo crash loses the queued events.</para>
/// </remarks>
[GrainType(GrainTypes.KeyAudit)]
public sealed class KeyAuditGrain : Grain, IKeyAuditGrain
{
    /// <summary>Entries per sealed segment.</summary>
    public const int SegmentSize = 64;

    /// <summary>Most events chained into one head write.</summary>
    public const int MaxBatch = 128;

    /// <summary>Queued events beyond this are dropped (and the drop is itself chained as an "audit-gap" entry).</summary>
    public const int MaxQueued = 10_000;

    /// <summary>Longest page <see cref="Read"/> returns.</summary>
    public const int MaxPage = 1000;

    private const string HeadStateName = "audit";
    private const string SegmentStateName = "audit-segment";
    private const int ConflictRetries = 3;
    private static readonly TimeSpan FailureLogInterval = TimeSpan.FromSeconds(30);

    private readonly IGrainStorage _storage;
    private readonly SignerOptions _options;
    private readonly TimeProvider _time;
    private readonly SignerMetrics _metrics;
    private readonly ILogger<KeyAuditGrain> _logger;
    private readonly List<AuditEvent> _queue = [];

    private AuditHeadState _head = new();
    private string? _headETag;
    private bool _headKnown;
    private long _dropped;
    private DateTimeOffset _lastFailureLogged = DateTimeOffset.MinValue;

    public KeyAuditGrain(IServiceProvider services, IOptions<SignerOptions> options, TimeProvider time, SignerMetrics metrics, ILogger<KeyAuditGrain> logger)
    {
        _storage = services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Keys);
        _options = options.Value;
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    private string KeyId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        TimeSpan period = _options.AuditFlushInterval > TimeSpan.Zero ? _options.AuditFlushInterval : TimeSpan.FromSeconds(1);
        this.RegisterGrainTimer(_ => FlushQuietly(), new GrainTimerCreationOptions(period, period) { Interleave = false, KeepAlive = false });
        return base.OnActivateAsync(cancellationToken);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await FlushQuietly();
        if (_queue.Count > 0 || _dropped > 0)
        {
            _metrics.AuditFailed("lost_on_deactivation", _queue.Count);
            _logger.LogError("Key {KeyId}: {Count} audit events were never persisted and are lost with this activation", KeyId, _queue.Count + _dropped);
        }
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    public Task Append(AuditEvent auditEvent)
    {
        if (_queue.Count >= MaxQueued)
        {
            _dropped++;
            _metrics.AuditFailed("dropped");
            return Task.CompletedTask;
        }
        // A re-sent event (its first hand-over arrived but the answer was lost) must not be chained twice.
        if (_queue.Exists(e => e.EventId == auditEvent.EventId) || (_headKnown && _head.Tail.Exists(e => e.EventId == auditEvent.EventId)))
        {
            return Task.CompletedTask;
        }
        _queue.Add(auditEvent);
        return Task.CompletedTask;
    }

    public async Task<AuditPage> Read(long fromSequence, int maxCount)
    {
        if (fromSequence < 0 || maxCount < 0)
        {
            throw new SignerException(SignerErrorKind.InvalidArgument, "from_sequence and max_count must not be negative.");
        }
        long from = Math.Max(1, fromSequence);
        int count = maxCount == 0 ? MaxPage : Math.Min(maxCount, MaxPage);
        await FlushQuietly();
        try
        {
            await EnsureHeadAsync();
            AuditHeadState head = _head;
            // A page past the end is empty, however far past: from + count - 1 would overflow near long.MaxValue, so
            // the page is measured from the head down (head.Count - from cannot overflow, both being non-negative).
            long last = head.Count - from < count ? head.Count : from + count - 1;
            var entries = new List<AuditEntry>();
            long sealedEnd = head.SealedSegments * SegmentSize;
            for (long sequence = from; sequence <= last;)
            {
                if (sequence <= sealedEnd)
                {
                    long segment = (sequence - 1) / SegmentSize;
                    List<AuditEntry> stored = await ReadSegmentAsync(segment);
                    entries.AddRange(stored.Where(e => e.Sequence >= sequence && e.Sequence <= last));
                    sequence = (segment + 1) * SegmentSize + 1;
                }
                else
                {
                    entries.AddRange(head.Tail.Where(e => e.Sequence >= sequence && e.Sequence <= last));
                    break;
                }
            }
            return new AuditPage(entries, head.Count, head.HeadHash, _queue.Count);
        }
        catch (Exception e) when (e is not SignerException)
        {
            _logger.LogWarning(e, "Reading the audit log of key {KeyId} failed", KeyId);
            throw new SignerException(SignerErrorKind.Internal, "The audit log cannot be read right now; try again.");
        }
    }

    /// <summary>Persists what is queued; failures are counted and logged, and the timer tries again.</summary>
    private async Task FlushQuietly()
    {
        try
        {
            await FlushAsync();
        }
        catch (Exception e)
        {
            _metrics.AuditFailed(e is InconsistentStateException ? "conflict" : "write");
            // Unknown outcome: the write may have landed. Re-read before the next attempt, never overwrite blindly.
            _headKnown = false;
            DateTimeOffset now = _time.GetUtcNow();
            if (now - _lastFailureLogged >= FailureLogInterval)
            {
                _lastFailureLogged = now;
                _logger.LogWarning(e, "Persisting {Count} audit events of key {KeyId} failed; they stay queued and are retried", _queue.Count, KeyId);
            }
        }
    }

    private async Task FlushAsync()
    {
        for (int conflicts = 0; _queue.Count > 0 || _dropped > 0 || (_headKnown && _head.Tail.Count >= SegmentSize);)
        {
            await EnsureHeadAsync();
            AuditHeadState next = _head.Copy();
            await SealCommittedSegmentsAsync(next);

            if (_dropped > 0)
            {
                // Chained in place of what was lost, so the log itself says that events are missing.
                _queue.Insert(0, new AuditEvent(Guid.NewGuid(), AuditEventKind.AuditGap, _time.GetUtcNow().ToUnixTimeMilliseconds(),
                    AuditDevices.Server, null, AuditOutcomes.Dropped, $"{_dropped} events dropped: audit queue full while storage was failing"));
                _dropped = 0;
            }
            int take = Math.Min(_queue.Count, MaxBatch);
            for (int i = 0; i < take; i++)
            {
                Chain(next, _queue[i]);
            }
            var state = new GrainState<AuditHeadState>(next, _headETag);
            try
            {
                await _storage.WriteStateAsync(HeadStateName, this.GetGrainId(), state);
            }
            catch (InconsistentStateException) when (++conflicts <= ConflictRetries)
            {
                _metrics.AuditFailed("conflict");
                _headKnown = false;
                continue;
            }
            _head = next;
            _headETag = state.ETag;
            // Removed only now: events appended while the write was in flight stay queued, in order.
            _queue.RemoveRange(0, take);
        }
    }

    private void Chain(AuditHeadState head, AuditEvent e)
    {
        long sequence = head.Count + 1;
        byte[] previous = head.Count == 0 ? AuditChain.GenesisHash() : head.HeadHash;
        string name = AuditEventNames.Of(e.Kind);
        byte[] digest = e.Digest?.ToArray() ?? [];
        byte[] hash = AuditChain.Hash(KeyId, sequence, e.TimestampUnixMs, name, e.DeviceId, digest, e.Outcome, e.Detail, previous);
        head.Tail.Add(new AuditEntry
        {
            Sequence = sequence,
            TimestampUnixMs = e.TimestampUnixMs,
            Event = name,
            DeviceId = e.DeviceId,
            Digest = digest,
            Outcome = e.Outcome,
            Detail = e.Detail,
            PreviousHash = previous,
            Hash = hash,
            EventId = e.EventId,
        });
        head.Count = sequence;
        head.HeadHash = hash;
    }

    /// <summary>Moves full segments of already committed entries out of the tail (into <paramref name="next"/>).</summary>
    private async Task SealCommittedSegmentsAsync(AuditHeadState next)
    {
        while (next.Tail.Count >= SegmentSize)
        {
            List<AuditEntry> segment = next.Tail.GetRange(0, SegmentSize);
            var state = new GrainState<AuditSegmentState>(new AuditSegmentState());
            GrainId id = SegmentId(next.SealedSegments);
            await _storage.ReadStateAsync(SegmentStateName, id, state);
            if (!state.RecordExists || !SameEntries(state.State?.Entries ?? [], segment))
            {
                state.State = new AuditSegmentState { Entries = segment };
                await _storage.WriteStateAsync(SegmentStateName, id, state);
            }
            next.Tail.RemoveRange(0, SegmentSize);
            next.SealedSegments++;
        }
    }

    private async Task EnsureHeadAsync()
    {
        if (_headKnown)
        {
            return;
        }
        var state = new GrainState<AuditHeadState>(new AuditHeadState());
        await _storage.ReadStateAsync(HeadStateName, this.GetGrainId(), state);
        _head = state.State ?? new AuditHeadState();
        _headETag = state.ETag;
        _headKnown = true;
        if (_queue.Count > 0 && _head.Tail.Count > 0)
        {
            // A write whose outcome was unknown may have landed: its events are in the head now, not to be chained twice.
            var persisted = _head.Tail.Select(e => e.EventId).ToHashSet();
            _queue.RemoveAll(e => persisted.Contains(e.EventId));
        }
    }

    private async Task<List<AuditEntry>> ReadSegmentAsync(long segment)
    {
        var state = new GrainState<AuditSegmentState>(new AuditSegmentState());
        await _storage.ReadStateAsync(SegmentStateName, SegmentId(segment), state);
        if (!state.RecordExists)
        {
            throw new InvalidOperationException($"Audit segment {segment} of key {KeyId} is missing from storage.");
        }
        return state.State?.Entries ?? [];
    }

    private GrainId SegmentId(long segment) => GrainId.Create(GrainTypes.KeyAuditSegment, $"{KeyId}/{segment}");

    private static bool SameEntries(List<AuditEntry> stored, List<AuditEntry> expected) =>
        stored.Count == expected.Count && stored.Zip(expected).All(p => p.First.Hash.AsSpan().SequenceEqual(p.Second.Hash));
}
