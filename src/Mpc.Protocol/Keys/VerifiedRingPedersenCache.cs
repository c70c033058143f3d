using Mpc.Crypto.BigNum;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Messages;

namespace Mpc.Protocol.Keys;

/// <summary>
/// The client ring-Pedersen parameter sets (N̂, s, t) this server has already seen proved well formed (Πprm), per user,
/// so a device that reuses its parameters for every key and refresh is not re-verified each time, and need not even
/// prove them again: round 2 of a key generation or refresh names the user's remembered sets (<see cref="Known"/>,
/// salted per session: <see cref="KnownParametersPin"/>), and a client whose set is among them sends it without Πprm. The statement Πprm proves, s ∈ ⟨t⟩ mod N̂, depends on the
/// parameters only, never on the session, so a verified set stays verified; a set that differs in any of N̂, s or t
/// has another fingerprint (<see cref="RingPedersenParameters.Fingerprint"/>) and is proved and verified again. The range
/// and structure checks (<see cref="RingPedersenParameters.Validate"/>) run on every use. Entries are fingerprints of
/// public values, held in memory only (per silo: a user served by another silo is simply verified there) and bounded:
/// the least recently used entry goes first. Thread-safe.
/// </summary>
public sealed class VerifiedRingPedersenCache
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string UserId, string Fingerprint), Entry> _entries = new();
    // Least recently used last: what goes first when the cache is full.
    private readonly LinkedList<Entry> _recency = new();
    // The same entries per user, most recently used first, so naming a user's sets never walks the whole cache.
    private readonly Dictionary<string, LinkedList<Entry>> _byUser = new(StringComparer.Ordinal);
    private long _hits;
    private long _misses;

    /// <param name="capacity">The most fingerprints held (0 remembers nothing: every set is verified).</param>
    public VerifiedRingPedersenCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Parameter sets recognised, whose Πprm verification was skipped (sent with or without the proof).</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Parameter sets verified because they were not (or no longer) remembered.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The cache as one user's sessions use it.</summary>
    public VerifiedRingPedersenScope For(string userId)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        return new VerifiedRingPedersenScope(this, userId);
    }

    /// <summary>
    /// The fingerprints of this user's remembered sets, most recently used first, at most
    /// <see cref="ProtocolLimits.MaxKnownParameterSets"/> (a user has a few devices; round 2 names them, salted).
    /// </summary>
    internal IReadOnlyList<byte[]> Known(string userId)
    {
        var known = new List<byte[]>();
        lock (_gate)
        {
            if (_byUser.TryGetValue(userId, out LinkedList<Entry>? entries))
            {
                for (var node = entries.First; node is not null && known.Count < ProtocolLimits.MaxKnownParameterSets; node = node.Next)
                {
                    known.Add(Convert.FromHexString(node.Value.Key.Fingerprint));
                }
            }
        }
        return known;
    }

    /// <summary>
    /// Checks the client's parameters: always their shape, then Πprm unless this user's sessions already verified exactly
    /// these parameters. Without a proof, the set must be one <paramref name="knownAtStart"/> named (what round 2 told
    /// the client); otherwise the message is refused. A set is remembered after its proof verified, or again when a pinned
    /// (so once verified) set comes back without one after its eviction.
    /// </summary>
    internal void Verify(string userId, RingPedersenParameters parameters, RingPedersenProof? proof, IReadOnlyList<byte[]> knownAtStart,
        ProofContext context, IBigNumBackend backend)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(knownAtStart);
        parameters.Validate();
        byte[] fingerprint = parameters.Fingerprint();
        var key = (userId, Convert.ToHexString(fingerprint));
        if (proof is null)
        {
            // Only the snapshot sent in round 2 counts: an eviction since then does not fail a session the client
            // started in good faith, and a set remembered only since then was never offered.
            if (!KnownParameterSets.Includes(knownAtStart, fingerprint))
            {
                throw KnownParameterSets.MissingProof();
            }
            Touch(key);
            Interlocked.Increment(ref _hits);
            return;
        }
        if (Recall(key))
        {
            Interlocked.Increment(ref _hits);
            return;
        }
        Interlocked.Increment(ref _misses);
        proof.Verify(parameters, context, backend);
        Remember(key);
    }

    private bool Recall((string, string) key)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out Entry? entry))
            {
                return false;
            }
            _recency.Remove(entry.InCache);
            _recency.AddFirst(entry.InCache);
            LinkedList<Entry> ofUser = _byUser[entry.Key.UserId];
            ofUser.Remove(entry.OfUser);
            ofUser.AddFirst(entry.OfUser);
            return true;
        }
    }

    // A set used without its proof stays remembered as recently used (or comes back, if evicted since round 2: it was
    // verified then, and the statement does not expire).
    private void Touch((string, string) key)
    {
        if (!Recall(key))
        {
            Remember(key);
        }
    }

    private void Remember((string, string) key)
    {
        if (Capacity == 0)
        {
            return;
        }
        lock (_gate)
        {
            if (_entries.ContainsKey(key))
            {
                return;
            }
            while (_entries.Count >= Capacity && _recency.Last is { } oldest)
            {
                Entry evicted = oldest.Value;
                _entries.Remove(evicted.Key);
                _recency.RemoveLast();
                LinkedList<Entry> ofEvictedUser = _byUser[evicted.Key.UserId];
                ofEvictedUser.Remove(evicted.OfUser);
                if (ofEvictedUser.Count == 0)
                {
                    _byUser.Remove(evicted.Key.UserId);
                }
            }
            var entry = new Entry(key);
            _recency.AddFirst(entry.InCache);
            if (!_byUser.TryGetValue(key.Item1, out LinkedList<Entry>? ofUser))
            {
                _byUser[key.Item1] = ofUser = new LinkedList<Entry>();
            }
            ofUser.AddFirst(entry.OfUser);
            _entries[key] = entry;
        }
    }

    public override string ToString() => $"VerifiedRingPedersenCache({Count}/{Capacity})";

    /// <summary>One remembered set, with its place in the whole cache's order and in its user's.</summary>
    private sealed class Entry
    {
        public Entry((string UserId, string Fingerprint) key)
        {
            Key = key;
            InCache = new LinkedListNode<Entry>(this);
            OfUser = new LinkedListNode<Entry>(this);
        }

        public (string UserId, string Fingerprint) Key { get; }

        public LinkedListNode<Entry> InCache { get; }

        public LinkedListNode<Entry> OfUser { get; }
    }
}

/// <summary>One user's view of <see cref="VerifiedRingPedersenCache"/>, handed to that user's key generations and refreshes.</summary>
public sealed class VerifiedRingPedersenScope
{
    private readonly VerifiedRingPedersenCache _cache;
    private readonly string _userId;

    internal VerifiedRingPedersenScope(VerifiedRingPedersenCache cache, string userId)
    {
        _cache = cache;
        _userId = userId;
    }

    /// <summary>See <see cref="VerifiedRingPedersenCache.Known"/>.</summary>
    public IReadOnlyList<byte[]> Known() => _cache.Known(_userId);

    /// <summary>
    /// What one session's round 2 names, fixed for that session together with this user: round 3 is checked against
    /// exactly this, whatever the cache or the session's settings become in between.
    /// </summary>
    public KnownParametersPin Pin() => new(_cache, _userId, [.. Known()]);

    public override string ToString() => "VerifiedRingPedersenScope";
}

/// <summary>One session's snapshot of <see cref="VerifiedRingPedersenScope.Known"/> (see <see cref="VerifiedRingPedersenScope.Pin"/>).</summary>
public sealed class KnownParametersPin
{
    private readonly VerifiedRingPedersenCache _cache;
    private readonly string _userId;
    private readonly byte[][] _fingerprints;

    internal KnownParametersPin(VerifiedRingPedersenCache cache, string userId, byte[][] fingerprints)
    {
        _cache = cache;
        _userId = userId;
        _fingerprints = fingerprints;
    }

    /// <summary>Round 2's list: the pinned sets' names salted with the session's <paramref name="serverNonce"/>, in byte order.</summary>
    public IReadOnlyList<byte[]> NamesFor(ReadOnlySpan<byte> serverNonce) => KnownParameterSets.Names(serverNonce, _fingerprints);

    /// <summary>Round 3: the shape always, Πprm unless these parameters were verified for this user; no proof only for a pinned set.</summary>
    public void Verify(RingPedersenParameters parameters, RingPedersenProof? proof, ProofContext context, IBigNumBackend backend) =>
        _cache.Verify(_userId, parameters, proof, _fingerprints, context, backend);

    public override string ToString() => $"KnownParametersPin({_fingerprints.Length})";
}
