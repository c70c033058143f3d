using Microsoft.Extensions.DependencyInjection;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Storage;
using Orleans.Runtime;
using Orleans.Serialization;

namespace Mpc.Testing;

/// <summary>A user's key grain state read straight from an embedded server's data directory (or a copy of it), as a thief or an auditor would.</summary>
public sealed class StoredKeys
{
    private StoredKeys(FileGrainStorage storage, GrainId grainId, GrainState<UserKeysState> state)
    {
        Storage = storage;
        GrainId = grainId;
        State = state;
    }

    public static Serializer Serializer { get; } = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    public FileGrainStorage Storage { get; }

    public GrainId GrainId { get; }

    public GrainState<UserKeysState> State { get; }

    public UserKeysState Keys => State.State ?? throw new InvalidOperationException("no state stored for this user");

    public static async Task<StoredKeys> ReadAsync(string dataDirectory, string user)
    {
        var storage = new FileGrainStorage(StorageNames.Keys, dataDirectory, Serializer);
        var grainId = GrainId.Create(GrainTypes.UserKeys, user);
        var state = new GrainState<UserKeysState>();
        await storage.ReadStateAsync("keys", grainId, state);
        return new StoredKeys(storage, grainId, state);
    }

    /// <summary>The file that holds the user's key grain state.</summary>
    public static string FileOf(string dataDirectory, string user) =>
        new FileGrainStorage(StorageNames.Keys, dataDirectory, Serializer).GetFilePath("keys", GrainId.Create(GrainTypes.UserKeys, user));

    /// <summary>Writes the (edited) state back, as an older release or an attacker with write access would have left it.</summary>
    public Task WriteAsync() => Storage.WriteStateAsync("keys", GrainId, State);
}
