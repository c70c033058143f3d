using Mpc.Crypto.BigNum;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Proofs;

namespace Mpc.Protocol.Keys;

/// <summary>
/// The client ring-Pedersen parameter sets (N̂, s, t) this server has already seen proved well formed (Πprm), per user,
/// so a device that reuses its parameters for every key and refresh is not re-verified each time. The statement Πprm
/// proves, s ∈ ⟨t⟩ mod N̂, depends on the parameters only, never on the session, so a verified set stays verified; a
/// set that differs in any of N̂, s or t has another fingerprint and is verified again. The range and structure checks
/// (<see cref="RingPedersenParameters.Validate"/>) run on every use. Entries are SHA-256 fingerprints of public values,
/// held in memory only (per silo: a user served by another silo is simply verified there) and bounded: the least
/// recently used entry goes first. Thread-safe.
/// </summary>
public sealed class VerifiedRingPedersenCache
{
    private const string FingerprintLabel = "mpc-signer/verified-ring-pedersen/v1";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<string>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _recency = new();
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

    /// <summary>Parameter sets recognised, whose Πprm verification was skipped.</summary>
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
    /// Checks the client's parameters: always their shape, then Πprm unless this user's sessions already verified exactly
    /// these parameters. A set is remembered only after its proof verified.
    /// </summary>
    internal void Verify(string userId, RingPedersenParameters parameters, RingPedersenProof proof, ProofContext context, IBigNumBackend backend)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(proof);
        parameters.Validate();
        string key = Key(userId, parameters);
        if (Recall(key))
        {
            Interlocked.Increment(ref _hits);
            return;
        }
        Interlocked.Increment(ref _misses);
        proof.Verify(parameters, context, backend);
        Remember(key);
    }

    private bool Recall(string key)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out LinkedListNode<string>? node))
            {
                return false;
            }
            _recency.Remove(node);
            _recency.AddFirst(node);
            return true;
        }
    }

    private void Remember(string key)
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
                _entries.Remove(oldest.Value);
                _recency.RemoveLast();
            }
            _entries[key] = _recency.AddFirst(key);
        }
    }

    /// <summary>User id and a SHA-256 fingerprint of the length-prefixed (N̂, s, t).</summary>
    private static string Key(string userId, RingPedersenParameters parameters)
    {
        var writer = new WireWriter().WriteString(FingerprintLabel).WriteString(userId);
        parameters.WriteTo(writer);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(writer.WrittenSpan));
    }

    public override string ToString() => $"VerifiedRingPedersenCache({Count}/{Capacity})";
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

    /// <summary>See <see cref="VerifiedRingPedersenCache"/>: the shape always, Πprm unless already verified for this user.</summary>
    public void Verify(RingPedersenParameters parameters, RingPedersenProof proof, ProofContext context, IBigNumBackend backend) =>
        _cache.Verify(_userId, parameters, proof, context, backend);

    public override string ToString() => "VerifiedRingPedersenScope";
}
