using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// The SDK's pool of precomputed signing randomness refills once half of it is used, so a burst of signatures on a
/// device does not run the pool's exponentiations beside every one of them.
/// </summary>
[Collection("server")]
public sealed class RandomnessPoolTests(ServerFixture server)
{
    [Fact]
    public async Task A_pool_of_four_refills_only_after_two_are_used_and_then_fills_up_again()
    {
        byte[] exported;
        using (MpcSignerClient client = server.Client("pool-user"))
        using (MpcKey created = await client.CreateKeyAsync(CurveKind.P256))
        {
            exported = created.Share.ExportSecret();
        }
        using var key = new MpcKey(ClientKeyShare.ImportSecret(exported, BigNumBackends.Default), precomputedRandomness: 4);
        await WaitForAsync(() => key.PreparedRandomness == 4);

        using (SignCiphertextRandomness? first = key.TakeRandomness())
        {
            Assert.NotNull(first);
        }
        // Above the low-water mark (2): nothing is prepared in the background, so the count stays at 3.
        await Task.Delay(TimeSpan.FromMilliseconds(1500));
        Assert.Equal(3, key.PreparedRandomness);

        using (SignCiphertextRandomness? second = key.TakeRandomness())
        {
            Assert.NotNull(second);
        }
        await WaitForAsync(() => key.PreparedRandomness == 4);
    }

    private static Task WaitForAsync(Func<bool> condition) =>
        Poll.UntilAsync(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50), condition, () => "the randomness pool did not reach the expected size in 60 s");
}
