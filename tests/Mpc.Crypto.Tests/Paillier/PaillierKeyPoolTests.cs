using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Paillier;

public sealed class PaillierKeyPoolTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private readonly IBigNumBackend _backend = BigNumBackends.Default;

    [Fact]
    public void TakenKeysAreDistinctLeaveThePoolAndAMissGeneratesInline()
    {
        using var pool = new PaillierKeyPool(_backend, 2048, capacity: 2);
        Assert.True(pool.RefillOne());
        Assert.True(pool.RefillOne());
        Assert.False(pool.RefillOne()); // full
        Assert.Equal(2, pool.Count);
        Assert.Equal(2, pool.Generated);

        using PaillierPrivateKey first = pool.Take(_backend, 2048);
        using PaillierPrivateKey second = pool.Take(_backend, 2048);
        Assert.Equal(0, pool.Count);
        Assert.Equal(2, pool.Hits);
        Assert.Equal(0, pool.Misses);

        using PaillierPrivateKey third = pool.Take(_backend, 2048); // empty: generated inline
        Assert.Equal(1, pool.Misses);
        Assert.Equal(2048, third.PublicKey.BitLength);
        BigInteger[] moduli = [first.PublicKey.N, second.PublicKey.N, third.PublicKey.N];
        Assert.Equal(3, moduli.Distinct().Count());
    }

    [Fact]
    public void APooledKeyComesWithItsRingPedersenWorkDoneOnceAndAMissDoesItInline()
    {
        using var pool = new PaillierKeyPool(_backend, 2048, capacity: 2);
        Assert.True(pool.RefillOne());
        Assert.True(pool.RefillOne());

        using PreparedPaillierKey first = pool.TakePrepared(_backend, 2048);
        using PreparedPaillierKey second = pool.TakePrepared(_backend, 2048);
        Assert.Equal(0, pool.Count); // taken sets left the pool
        Assert.NotNull(first.RingPedersen);
        Assert.NotNull(first.Commitments);
        Assert.False(first.Commitments.IsUsed);
        Assert.Equal(first.Key.PublicKey.N, first.RingPedersen.Parameters.N);
        Assert.Equal(first.RingPedersen.Parameters, first.Commitments.Parameters);
        // The derivation is deterministic per key and matches what a session would derive inline.
        using (RingPedersenSecret derived = RingPedersenSecret.DeriveFromPaillier(first.Key))
        {
            Assert.Equal(derived.Parameters, first.RingPedersen.Parameters);
        }
        Assert.NotEqual(first.Key.PublicKey.N, second.Key.PublicKey.N);

        using PreparedPaillierKey missed = pool.TakePrepared(_backend, 2048); // empty: generated inline, nothing prepared
        Assert.Equal(1, pool.Misses);
        Assert.Null(missed.RingPedersen);
        Assert.Null(missed.Commitments);
    }

    [Fact]
    public void ARequestForAnotherSizeIsAMissAndLeavesThePoolAlone()
    {
        using var pool = new PaillierKeyPool(_backend, 2048, capacity: 1);
        Assert.True(pool.RefillOne());
        using PaillierPrivateKey other = pool.Take(_backend, 2050);
        Assert.Equal(2050, other.PublicKey.BitLength);
        Assert.Equal(1, pool.Misses);
        Assert.Equal(0, pool.Hits);
        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public void AnEmptyPoolOfCapacityZeroAlwaysGeneratesInline()
    {
        using var pool = new PaillierKeyPool(_backend, 2048, capacity: 0);
        Assert.False(pool.RefillOne());
        using PaillierPrivateKey key = pool.Take(_backend, 2048);
        Assert.Equal(1, pool.Misses);
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public async Task BackgroundRefillRefillsAfterATakeAndStopsOnCancellation()
    {
        using var pool = new PaillierKeyPool(_backend, 2048, capacity: 2);
        using var stop = new CancellationTokenSource();
        Task refill = Task.Factory.StartNew(() => pool.RunRefill(stop.Token), TaskCreationOptions.LongRunning);
        await WaitUntil(() => pool.Count == 2);
        using PaillierPrivateKey taken = pool.Take(_backend, 2048);
        Assert.Equal(1, pool.Hits);
        await WaitUntil(() => pool.Count == 2 && pool.Generated == 3);
        stop.Cancel();
        await refill.WaitAsync(Patience);
        Assert.True(refill.IsCompletedSuccessfully);
    }

    [Fact]
    public void DisposeEmptiesThePoolAndStopsServingIt()
    {
        var pool = new PaillierKeyPool(_backend, 2048, capacity: 1);
        Assert.True(pool.RefillOne());
        using PaillierPrivateKey before = pool.Take(_backend, 2048);
        Assert.True(pool.RefillOne());
        pool.Dispose();
        Assert.Equal(0, pool.Count);
        Assert.False(pool.RefillOne());
        using PaillierPrivateKey after = pool.Take(_backend, 2048);
        Assert.Equal(1, pool.Misses);
        // A key taken before disposal belongs to its taker and still works.
        Assert.Equal(BigInteger.Two, before.Decrypt(before.PublicKey.Encrypt(BigInteger.Two)));
    }

    [Fact]
    public void RefillDelayCountsTheQuietPeriodFromTheLastTakeAndIsZeroAtTheLowWaterMark()
    {
        var clock = new SteppedClock();
        using var pool = new PaillierKeyPool(_backend, 2048, capacity: 4, quietPeriod: TimeSpan.FromSeconds(1), time: clock);
        Assert.Equal(1, pool.LowWater);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(pool.RefillOne());
        }
        Assert.Equal(TimeSpan.Zero, pool.RefillDelay()); // nothing taken yet: a new server fills at once

        using (pool.TakePrepared(_backend, 2048))
        {
        }
        Assert.Equal(TimeSpan.FromSeconds(1), pool.RefillDelay());
        clock.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Equal(TimeSpan.FromMilliseconds(600), pool.RefillDelay());
        clock.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(TimeSpan.Zero, pool.RefillDelay()); // quiet for the whole period

        using (pool.TakePrepared(_backend, 2048))
        {
        }
        Assert.Equal(TimeSpan.FromSeconds(1), pool.RefillDelay()); // a new take starts the period again
        using (pool.TakePrepared(_backend, 2048))
        {
        }
        Assert.Equal(pool.LowWater, pool.Count);
        Assert.Equal(TimeSpan.Zero, pool.RefillDelay()); // down to the low-water mark: no more waiting
    }

    [Fact]
    public void WithoutAQuietPeriodTheRefillNeverWaits()
    {
        using var pool = new PaillierKeyPool(_backend, 2048, capacity: 4);
        Assert.True(pool.RefillOne());
        Assert.True(pool.RefillOne());
        Assert.True(pool.RefillOne());
        using PaillierPrivateKey taken = pool.Take(_backend, 2048);
        Assert.Equal(2, pool.Count);
        Assert.Equal(TimeSpan.Zero, pool.RefillDelay());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PaillierKeyPool(_backend, 2048, 4, TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task BackgroundRefillHoldsOffDuringABurstRefillsAtTheLowWaterMarkAndFillsUpOnceQuiet()
    {
        var clock = new SteppedClock();
        using var pool = new PaillierKeyPool(_backend, 2048, capacity: 4, quietPeriod: TimeSpan.FromMilliseconds(300), time: clock);
        using var stop = new CancellationTokenSource();
        Task refill = Task.Factory.StartNew(() => pool.RunRefill(stop.Token), TaskCreationOptions.LongRunning);
        await WaitUntil(() => pool.Count == 4);

        // A burst: three keys taken, and the clock (the refill's only sense of time) does not move.
        for (int i = 0; i < 3; i++)
        {
            using PreparedPaillierKey taken = pool.TakePrepared(_backend, 2048);
        }
        // At the low-water mark the refill searches without waiting, up to one key above it, then waits for quiet.
        await WaitUntil(() => pool.Generated == 5);
        Assert.Equal(pool.LowWater + 1, pool.Count);
        Assert.True(pool.RefillDelay() > TimeSpan.Zero);
        Assert.Equal(5, pool.Generated);

        // Quiet: the rest is refilled.
        clock.Advance(TimeSpan.FromMilliseconds(300));
        await WaitUntil(() => pool.Count == 4 && pool.Generated == 7);
        stop.Cancel();
        await refill.WaitAsync(Patience);
        Assert.True(refill.IsCompletedSuccessfully);
    }

    /// <summary>A clock that moves only when the test says so (its timestamps are ticks).</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks = TimeSpan.TicksPerDay;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the pool did not refill in time");
            await Task.Delay(50);
        }
    }
}
