using System.Collections.Concurrent;
using Orleans.Runtime;
using Orleans.Storage;

namespace Mpc.Testing;

/// <summary>
/// Grain storage that fails writes on demand, around the real one: the storage outage (or size limit) an attacker
/// would provoke, at exactly the write a test names; and reads that fail, a given number of times.
/// </summary>
public sealed class FaultInjectingGrainStorage(IGrainStorage inner) : IGrainStorage
{
    private readonly ConcurrentDictionary<string, int> _writes = new();
    private readonly ConcurrentDictionary<string, int> _reads = new();
    private volatile Func<string, object?, bool>? _failWrite;
    private int _failedWrites;
    private readonly ConcurrentDictionary<string, int> _readsToFail = new();
    private readonly ConcurrentDictionary<string, (int Skip, Func<Task> Action)> _beforeRead = new();

    /// <summary>Writes that reached the real storage, by state name ("keys", "status", ...).</summary>
    public int WritesOf(string stateName) => _writes.GetValueOrDefault(stateName);

    /// <summary>Reads by state name: each activation reads its states once.</summary>
    public int ReadsOf(string stateName) => _reads.GetValueOrDefault(stateName);

    public int FailedWrites => Volatile.Read(ref _failedWrites);

    /// <summary>From now on, a write of state <c>stateName</c> holding <c>state</c> fails when the predicate says so (null: none fail).</summary>
    public void FailWritesWhen(Func<string, object?, bool>? predicate) => _failWrite = predicate;

    /// <summary>The next <paramref name="count"/> reads of state <paramref name="stateName"/> fail (a storage blip).</summary>
    public void FailNextReads(string stateName, int count) => _readsToFail[stateName] = count;

    /// <summary>
    /// Runs <paramref name="action"/> once, just before a read of <paramref name="stateName"/> reaches storage, after
    /// <paramref name="skip"/> reads of it have gone by: another writer acting between two reads of one activation.
    /// </summary>
    public void BeforeNextRead(string stateName, Func<Task> action, int skip = 0) => _beforeRead[stateName] = (skip, action);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_beforeRead.TryGetValue(stateName, out var pending))
        {
            if (pending.Skip > 0)
            {
                _beforeRead[stateName] = (pending.Skip - 1, pending.Action);
            }
            else if (_beforeRead.TryRemove(stateName, out _))
            {
                // Off the activation's scheduler: the other writer is not this grain.
                await Task.Run(pending.Action);
            }
        }
        if (_readsToFail.TryGetValue(stateName, out int left) && left > 0 && _readsToFail.TryUpdate(stateName, left - 1, left))
        {
            throw new IOException($"Injected storage fault reading '{stateName}' of {grainId}.");
        }
        _reads.AddOrUpdate(stateName, 1, (_, n) => n + 1);
        await inner.ReadStateAsync(stateName, grainId, grainState);
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
