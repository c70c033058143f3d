using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// Runs the independent rounds of a proof (prover or verifier work) on a bounded number of cores. Each round writes
/// only its own slot, so results are the same as a sequential loop; the Fiat–Shamir transcript is never touched
/// from inside a round.
/// </summary>
internal static class ProofParallel
{
    /// <summary>At most this many threads per proof: enough for the 2–4 core machines this runs on, and a bound on one session's share of a busy server.</summary>
    private const int MaxDegree = 4;

    /// <summary>Computes <paramref name="round"/>(i) for every i in [0, count).</summary>
    public static T[] Map<T>(int count, Func<int, T> round)
    {
        var results = new T[count];
        if (count == 0)
        {
            return results;
        }
        ParallelOptions options = Options();
        // Chunks rather than single rounds: one exponentiation is too short to pay for a work item each.
        int chunk = Math.Max(1, count / (options.MaxDegreeOfParallelism * 4));
        try
        {
            Parallel.For(0, (count + chunk - 1) / chunk, options, c =>
            {
                int end = Math.Min(count, (c + 1) * chunk);
                for (int i = c * chunk; i < end; i++)
                {
                    results[i] = round(i);
                }
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Callers see the round's own error (an MpcProtocolException with its code), as in a sequential loop.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        return results;
    }

    /// <summary>
    /// values[i]^exponents[i] mod modulus for every i, on all cores: one <see cref="IBigNumBackend.ModPowMany"/> call per
    /// core, so the modulus is set up once per core rather than once per power.
    /// </summary>
    public static BigInteger[] ModPowMany(IBigNumBackend backend, IReadOnlyList<BigInteger> values, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (values.Count != exponents.Count)
        {
            throw new ArgumentException("One exponent per value.", nameof(exponents));
        }
        return InSlices(values.Count, (start, length) =>
            backend.ModPowMany(Slice(values, start, length), Slice(exponents, start, length), modulus));
    }

    /// <summary>
    /// value^exponents[i] mod modulus for PUBLIC values and exponents, on all cores: one
    /// <see cref="IBigNumBackend.PublicFixedBasePowMany"/> call (one fixed-base table) per core.
    /// </summary>
    public static BigInteger[] PublicFixedBasePowMany(IBigNumBackend backend, BigInteger value, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return InSlices(exponents.Count, (start, length) =>
            backend.PublicFixedBasePowMany(value, Slice(exponents, start, length), modulus));
    }

    /// <summary>
    /// One partial product ∏ values[i]^exponents[i] per core over a contiguous share of the values (public values only):
    /// their product is the whole product.
    /// </summary>
    public static BigInteger[] PublicProductsOfPowers(IBigNumBackend backend, IReadOnlyList<BigInteger> values, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (values.Count != exponents.Count)
        {
            throw new ArgumentException("One exponent per value.", nameof(exponents));
        }
        (int Start, int Length)[] shares = Shares(values.Count);
        return Map(shares.Length, s =>
        {
            (int start, int length) = shares[s];
            return backend.PublicProductOfPowers(Slice(values, start, length), Slice(exponents, start, length), modulus);
        });
    }

    /// <summary>
    /// Splits <paramref name="count"/> results into one contiguous slice per core and joins what
    /// <paramref name="slice"/>(start, length) returns for each: batch calls keep their per-call set-up per slice.
    /// </summary>
    private static BigInteger[] InSlices(int count, Func<int, int, BigInteger[]> slice)
    {
        (int Start, int Length)[] shares = Shares(count);
        if (shares.Length == 1)
        {
            return slice(0, count);
        }
        var results = new BigInteger[count];
        Map(shares.Length, s =>
        {
            (int start, int length) = shares[s];
            BigInteger[] part = slice(start, length);
            Array.Copy(part, 0, results, start, length);
            return true;
        });
        return results;
    }

    /// <summary>[0, count) cut into one contiguous (start, length) share per core (one share for a small count or one core).</summary>
    private static (int Start, int Length)[] Shares(int count)
    {
        int slices = Math.Max(1, Math.Min(Options().MaxDegreeOfParallelism, count));
        int sliceLength = (count + slices - 1) / slices;
        var shares = new (int Start, int Length)[slices];
        for (int s = 0; s < slices; s++)
        {
            int start = s * sliceLength;
            shares[s] = (start, Math.Max(0, Math.Min(count, start + sliceLength) - start));
        }
        return shares;
    }

    private static BigInteger[] Slice(IReadOnlyList<BigInteger> list, int start, int length)
    {
        var slice = new BigInteger[length];
        for (int i = 0; i < length; i++)
        {
            slice[i] = list[start + i];
        }
        return slice;
    }

    // The thread pool explicitly: inside an Orleans grain TaskScheduler.Current is the grain's one-at-a-time
    // scheduler, on which the extra workers would only queue behind the blocked turn.
    internal static ParallelOptions Options() => new()
    {
        MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, MaxDegree),
        TaskScheduler = TaskScheduler.Default,
    };

    /// <summary>The smallest i in [0, count) whose <paramref name="holds"/>(i) is false, or -1: the same round a sequential check reports first.</summary>
    public static int FirstFailure(int count, Func<int, bool> holds)
    {
        bool[] ok = Map(count, holds);
        return Array.IndexOf(ok, false);
    }
}
