using System.Collections.Concurrent;
using Mpc.Grains.Abstractions;
using Orleans.Serialization;
using Orleans.Storage;

namespace Mpc.Grains.Tests;

/// <summary>
/// Grain storage in memory for a test silo: ETag-checked like the real providers, each state copied through Orleans'
/// serializer (as storage would), and writes of one state name made to fail on demand.
/// </summary>
internal sealed class FlakyGrainStorage(Serializer serializer) : IGrainStorage
{
    private readonly ConcurrentDictionary<(string State, GrainId Grain), (byte[] Payload, string ETag)> _records = new();

    /// <summary>State names ("keys", "status", "owner") whose writes throw, as a storage outage would.</summary>
    public ConcurrentDictionary<string, bool> FailingStates { get; } = new();

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_records.TryGetValue((stateName, grainId), out var record))
        {
            grainState.State = serializer.Deserialize<T>(record.Payload);
            grainState.ETag = record.ETag;
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (FailingStates.ContainsKey(stateName))
        {
            return Task.FromException(new IOException($"injected: storage refuses writes of '{stateName}'"));
        }
        lock (_records)
        {
            string? current = _records.TryGetValue((stateName, grainId), out var record) ? record.ETag : null;
            if (current != grainState.ETag)
            {
                return Task.FromException(new InconsistentStateException("ETag mismatch", current ?? "", grainState.ETag ?? ""));
            }
            string etag = Guid.NewGuid().ToString("N");
            _records[(stateName, grainId)] = (serializer.SerializeToArray(grainState.State), etag);
            grainState.ETag = etag;
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _records.TryRemove((stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    /// <summary>Edits a stored state (a new one if none is stored), as another process with access to storage could.</summary>
    public void Edit<T>(string stateName, GrainId grainId, Action<T> edit)
        where T : new()
    {
        lock (_records)
        {
            T state = _records.TryGetValue((stateName, grainId), out var record) ? serializer.Deserialize<T>(record.Payload)! : new T();
            edit(state);
            _records[(stateName, grainId)] = (serializer.SerializeToArray(state), Guid.NewGuid().ToString("N"));
        }
    }
}
