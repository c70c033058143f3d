using Mpc.Crypto.BigNum;

namespace Mpc.Crypto.Paillier;

/// <summary>Where a key generation or refresh gets its fresh Paillier key.</summary>
public interface IPaillierKeySource
{
    /// <summary>A Paillier key never handed out before, owned (and disposed) by the caller.</summary>
    PaillierPrivateKey Take(IBigNumBackend backend, int modulusBits);

    /// <summary>
    /// A Paillier key never handed out before, with whatever session-independent work the source did ahead
    /// (<see cref="PreparedPaillierKey"/>); owned by the caller. By default nothing is prepared.
    /// </summary>
    PreparedPaillierKey TakePrepared(IBigNumBackend backend, int modulusBits) => PreparedPaillierKey.Inline(Take(backend, modulusBits));
}

/// <summary>Generates every key inline, on the caller's thread: the prime search is on the critical path.</summary>
public sealed class FreshPaillierKeys : IPaillierKeySource
{
    public static FreshPaillierKeys Instance { get; } = new();

    private FreshPaillierKeys()
    {
    }

    public PaillierPrivateKey Take(IBigNumBackend backend, int modulusBits) => PaillierPrivateKey.Generate(backend, modulusBits);
}

/// <summary>
/// A bounded in-memory pool of ready Paillier keys (Paillier–Blum prime pairs with their CRT contexts), so the prime
/// search happens before a key generation or refresh asks for one. With each key the refill also derives its
/// ring-Pedersen parameters and one set of Πprm masks and commitments (<see cref="PreparedPaillierKey"/>). Everything
/// in the pool is independent of any session: the session-bound proofs (and Πprm's challenge and responses) are
/// computed per session on the taken key. Each key, and so each set of commitments, is handed out at most once and
/// leaves the pool when taken; <see cref="Dispose"/> wipes the ones never taken. Never persisted.
/// A request the pool cannot serve (empty, another size or backend) generates inline, as without a pool.
/// <see cref="RunRefill"/> waits for a quiet period after each take (<see cref="RefillDelay"/>) while more than
/// <see cref="LowWater"/> keys are left, so a burst of key generations does not share its cores with the search for
/// their replacements. Thread-safe: takers run on grain threads, <see cref="RefillOne"/> on a background thread.
/// </summary>
public sealed class PaillierKeyPool : IPaillierKeySource, IDisposable
{
    private readonly Lock _gate = new();
    private readonly Queue<PreparedPaillierKey> _ready = new();
    private readonly SemaphoreSlim _demand = new(0);
    private readonly IBigNumBackend _backend;
    private readonly TimeSpan _quietPeriod;
    private readonly TimeProvider _time;
    private long _hits;
    private long _misses;
    private long _generated;
    private long _lastTake;
    private bool _disposed;

    /// <param name="backend">The backend the pooled keys are made with; a request for another backend is a miss.</param>
    /// <param name="modulusBits">The modulus size pooled; a request for another size is a miss.</param>
    /// <param name="capacity">The most keys held at once (0 turns the pool into inline generation).</param>
    /// <param name="quietPeriod">How long <see cref="RunRefill"/> waits after a take before its next search while more than <see cref="LowWater"/> keys are left (zero: never waits).</param>
    /// <param name="time">The clock of that wait (the system's by default).</param>
    public PaillierKeyPool(IBigNumBackend backend, int modulusBits, int capacity, TimeSpan quietPeriod = default, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        ArgumentOutOfRangeException.ThrowIfLessThan(quietPeriod, TimeSpan.Zero);
        _backend = backend;
        ModulusBits = modulusBits;
        Capacity = capacity;
        _quietPeriod = quietPeriod;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// The fewest ready keys at which the refill stops waiting for quiet: a quarter of the capacity, at least one. Below
    /// it, a steady stream of requests would empty the pool, and an empty pool puts a whole prime search on a request.
    /// </summary>
    public int LowWater => Math.Max(1, Capacity / 4);

    /// <summary>
    /// How long the refill should still wait before its next search: the rest of the quiet period since the last take,
    /// or zero when nothing was taken yet, the period is over, or no more than <see cref="LowWater"/> keys are left.
    /// A take comes at the start of a key generation or refresh, whose server work goes on for a fraction of a second.
    /// </summary>
    public TimeSpan RefillDelay()
    {
        long lastTake = Interlocked.Read(ref _lastTake);
        if (_quietPeriod == TimeSpan.Zero || lastTake == 0 || Count <= LowWater)
        {
            return TimeSpan.Zero;
        }
        TimeSpan since = _time.GetElapsedTime(lastTake);
        return since >= _quietPeriod ? TimeSpan.Zero : _quietPeriod - since;
    }

    public int ModulusBits { get; }

    public int Capacity { get; }

    /// <summary>Keys ready now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _ready.Count;
            }
        }
    }

    /// <summary>Requests served from the pool.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Requests that generated inline.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Keys the refill has put into the pool.</summary>
    public long Generated => Interlocked.Read(ref _generated);

    /// <summary>A key alone: its prepared ring-Pedersen work is wiped unused.</summary>
    public PaillierPrivateKey Take(IBigNumBackend backend, int modulusBits)
    {
        PreparedPaillierKey prepared = TakePrepared(backend, modulusBits);
        prepared.Commitments?.Dispose();
        prepared.RingPedersen?.Dispose();
        return prepared.Key;
    }

    /// <summary>A pooled key with its ring-Pedersen work done, removed from the pool; a miss generates inline with nothing prepared.</summary>
    public PreparedPaillierKey TakePrepared(IBigNumBackend backend, int modulusBits)
    {
        ArgumentNullException.ThrowIfNull(backend);
        // Never 0, which means "nothing taken yet".
        Interlocked.Exchange(ref _lastTake, Math.Max(1, _time.GetTimestamp()));
        if (ReferenceEquals(backend, _backend) && modulusBits == ModulusBits)
        {
            lock (_gate)
            {
                if (!_disposed && _ready.TryDequeue(out PreparedPaillierKey? key))
                {
                    Interlocked.Increment(ref _hits);
                    _demand.Release();
                    return key;
                }
            }
        }
        Interlocked.Increment(ref _misses);
        WakeRefill();
        return PreparedPaillierKey.Inline(PaillierPrivateKey.Generate(backend, modulusBits));
    }

    /// <summary>Generates one key into the pool if it has room; false when it is full or disposed. Call off the request path.</summary>
    public bool RefillOne()
    {
        if (!HasRoom())
        {
            return false;
        }
        // The ring-Pedersen derivation and Πprm commitments (≈ 130 CRT exponentiations) ride along, off the request path.
        PreparedPaillierKey key = PreparedPaillierKey.Prepare(PaillierPrivateKey.Generate(_backend, ModulusBits));
        lock (_gate)
        {
            if (!_disposed && _ready.Count < Capacity)
            {
                _ready.Enqueue(key);
                Interlocked.Increment(ref _generated);
                return true;
            }
        }
        key.Dispose();
        return false;
    }

    /// <summary>
    /// Keeps the pool full until <paramref name="cancellationToken"/> is cancelled: generates while there is room, each
    /// search after the quiet period of <see cref="RefillDelay"/>, then sleeps until a key is taken. Blocking and
    /// CPU-bound: run it on a dedicated thread, not a grain's.
    /// </summary>
    public void RunRefill(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan delay = RefillDelay();
            if (delay > TimeSpan.Zero)
            {
                // A take during the wait starts the period again (the loop asks RefillDelay once more).
                if (!WaitForDemand(delay, cancellationToken))
                {
                    return;
                }
                continue;
            }
            if (!RefillOne() && !WaitForDemand(Timeout.InfiniteTimeSpan, cancellationToken))
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            while (_ready.TryDequeue(out PreparedPaillierKey? key))
            {
                key.Dispose();
            }
        }
        _demand.Release();
    }

    public override string ToString() => $"PaillierKeyPool({ModulusBits} bits, {Count}/{Capacity})";

    /// <summary>Sleeps until a key is taken or <paramref name="timeout"/> passes; false once the refill must stop.</summary>
    private bool WaitForDemand(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            _demand.Wait(timeout, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    private bool HasRoom()
    {
        lock (_gate)
        {
            return !_disposed && _ready.Count < Capacity;
        }
    }

    private void WakeRefill()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
        }
        _demand.Release();
    }
}
