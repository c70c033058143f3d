using Mpc.Grains.Abstractions;

namespace Mpc.Grains;

/// <summary>Records which user owns a key id. The first claim wins and is stored before it is reported.</summary>
[GrainType(GrainTypes.KeyOwner)]
public sealed class KeyOwnerGrain(
    [PersistentState("owner", StorageNames.Keys)] IPersistentState<KeyOwnerState> state) : Grain, IKeyOwnerGrain
{
    public async Task<bool> Claim(string userId)
    {
        if (state.State.Owner is null)
        {
            state.State.Owner = userId;
            await state.WriteStateAsync();
        }
        return state.State.Owner == userId;
    }

    public Task<string?> GetOwner() => Task.FromResult(state.State.Owner);
}
