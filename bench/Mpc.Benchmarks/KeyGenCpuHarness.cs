using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;

namespace Mpc.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Mpc.Benchmarks -- --keygen-cpu [runs]</c>: key generation and refresh,
/// both parties in one process (P-256, OpenSSL backend, the device's ring-Pedersen parameters made once, the pool
/// refilled before each run outside the measurement), timed as PROCESS CPU time (all threads) against F measured in
/// the same run. On a shared machine wall time says little; CPU time is what the operation costs. Prints medians for
/// the server as deployed (pool with Πprm commitments, verified client parameters remembered) and with each of the two
/// switched off, to show what each is worth.
/// </summary>
internal static class KeyGenCpuHarness
{
    public static int Run(int runs)
    {
        IBigNumBackend backend = BigNumBackends.Create(BigNumBackendKind.OpenSsl);
        RingPedersenSecret auxiliary = SharedRingPedersen.For(backend);
        using CostFloor floor = CostFloor.Create();
        using var pool = new PaillierKeyPool(backend, 2048, capacity: 1);
        var known = new VerifiedRingPedersenCache(capacity: 16);
        pool.RefillOne();
        (ServerKeyShare Server, ClientKeyShare Client) key = EngineSetup.KeyGen(CurveKind.P256, auxiliary, backend, pool, known);
        var floors = new List<double>();
        var rows = new List<(string Label, double[] Values)>();
        foreach ((string name, IPaillierKeySource keys, VerifiedRingPedersenCache? cache) in new (string, IPaillierKeySource, VerifiedRingPedersenCache?)[]
        {
            ("pool with Πprm commitments + known parameters", pool, known),
            ("pool with Πprm commitments, parameters verified", pool, null),
            ("pool of bare keys + known parameters", new BareKeys(pool), known),
            ("pool of bare keys, parameters verified", new BareKeys(pool), null),
        })
        {
            var keyGen = new double[runs];
            var refresh = new double[runs];
            for (int i = 0; i < runs; i++)
            {
                floors.Add(floor.Measure().TotalMilliseconds);
                pool.RefillOne();
                keyGen[i] = CpuMilliseconds(() => EngineSetup.KeyGen(CurveKind.P256, auxiliary, backend, keys, cache));
                pool.RefillOne();
                refresh[i] = CpuMilliseconds(() => EngineSetup.Refresh(key.Server, key.Client, auxiliary, backend, keys, cache));
            }
            rows.Add(($"{name}: keygen {Median(keyGen):F0} ms", keyGen));
            rows.Add(($"{name}: refresh {Median(refresh):F0} ms", refresh));
        }
        floors.Add(floor.Measure().TotalMilliseconds);
        double f = Median([.. floors]);
        Console.WriteLine($"F = {f:F2} ms (thread CPU, median of {floors.Count}); pool {pool.Hits} hits, {pool.Misses} misses; known parameters {known.Hits} hits, {known.Misses} misses");
        foreach ((string label, double[] values) in rows)
        {
            Console.WriteLine($"{label} CPU = {Median(values) / f:F0} F (min {values.Min() / f:F0} F, max {values.Max() / f:F0} F)");
        }
        return 0;
    }

    /// <summary>The pool's keys without their prepared ring-Pedersen work: what the session then does inline.</summary>
    private sealed class BareKeys(PaillierKeyPool pool) : IPaillierKeySource
    {
        public PaillierPrivateKey Take(IBigNumBackend backend, int modulusBits) => pool.Take(backend, modulusBits);
    }

    private static double CpuMilliseconds(Func<object> operation)
    {
        TimeSpan start = Environment.CpuUsage.TotalTime;
        operation();
        return (Environment.CpuUsage.TotalTime - start).TotalMilliseconds;
    }

    private static double Median(double[] values)
    {
        double[] sorted = [.. values.Order()];
        return sorted[sorted.Length / 2];
    }
}
