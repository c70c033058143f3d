using System.Collections.Concurrent;
using Orleans.Runtime;
using Orleans.Storage;

namespace Mpc.Testing;

/// <summary>
/// Grain storage that fails writes on demand, around the real one: the storage outage (or size limit) an attacker
/// would provoke, at exactly the write a test names. Reads always reach the real storage.
/// </summary>
public sealed class FaultInjectingGrainStorage(IGrainStorage inner) : IGrainStorage
{
    private readonly ConcurrentDictionary<string, int> _writes = new();
    private readonly ConcurrentDictionary<string, int> _reads = new();
    private volatile Func<string, object?, bool>? _failWrite;
    private int _failedWrites;

    /// <summary>Writes that reached the real storage, by state name ("keys", "status", ...).</summary>
    public int WritesOf(string stateName) => _writes.GetValueOrDefault(stateName);

    /// <summary>Reads by state name: each activation reads its states once.</summary>
    public int ReadsOf(string stateName) => _reads.GetValueOrDefault(stateName);

    public int FailedWrites => Volatile.Read(ref _failedWrites);

    /// <summary>From now on, a write of state <c>stateName</c> holding <c>state</c> fails when the predicate says so (null: none fail).</summary>
    public void FailWritesWhen(Func<string, object?, bool>? predicate) => _failWrite = predicate;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _reads.AddOrUpdate(stateName, 1, (_, n) => n + 1);
        return inner.ReadStateAsync(stateName, grainId, grainState);
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_failWrite is { } fail && fail(stateName, grainState.State))
        {
            Interlocked.Increment(ref _failedWrites);
            throw new IOException($"Injected storage fault writing '{stateName}' of {grainId}.");
        }
        _writes.AddOrUpdate(stateName, 1, (_, n) => n + 1);
        return inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
}
