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
        // Warm-up: the JIT's background compilation (tier 1) counts as process CPU, so the first runs would carry it.
        for (int i = 0; i < 3; i++)
        {
            pool.RefillOne();
            EngineSetup.Refresh(key.Server, key.Client, auxiliary, backend, pool, known);
        }
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
        var steps = new Dictionary<string, List<double>>();
        for (int i = 0; i < runs; i++)
        {
            pool.RefillOne();
            foreach ((string step, double ms) in KeyGenSteps(auxiliary, backend, pool, known))
            {
                (steps.TryGetValue(step, out List<double>? list) ? list : steps[step] = []).Add(ms);
            }
        }
        floors.Add(floor.Measure().TotalMilliseconds);
        double f = Median([.. floors]);
        Console.WriteLine($"F = {f:F2} ms (thread CPU, median of {floors.Count}); pool {pool.Hits} hits, {pool.Misses} misses; known parameters {known.Hits} hits, {known.Misses} misses");
        foreach ((string label, double[] values) in rows)
        {
            Console.WriteLine($"{label} CPU = {Median(values) / f:F0} F (min {values.Min() / f:F0} F, max {values.Max() / f:F0} F)");
        }
        Console.WriteLine("key generation by step (pool with Πprm commitments + known parameters), CPU medians:");
        foreach ((string step, List<double> values) in steps)
        {
            Console.WriteLine($"  {step}: {Median([.. values]) / f:F0} F");
        }
        ProofSteps(auxiliary, backend, pool, f, runs);
        return 0;
    }

    /// <summary>Each proof of key generation proved and verified on its own: which one to make cheaper next.</summary>
    private static void ProofSteps(RingPedersenSecret auxiliary, IBigNumBackend backend, PaillierKeyPool pool, double f, int runs)
    {
        var curve = EcCurve.Get(CurveKind.P256);
        var context = new Mpc.Crypto.Hashing.ProofContext(new byte[16], Mpc.Crypto.Hashing.PartyRole.Server, "k", CurveKind.P256);
        var steps = new Dictionary<string, List<double>>();
        void Timed(string step, Action operation)
        {
            TimeSpan start = Environment.CpuUsage.TotalTime;
            long wall = System.Diagnostics.Stopwatch.GetTimestamp();
            operation();
            (steps.TryGetValue(step, out List<double>? list) ? list : steps[step] = []).Add((Environment.CpuUsage.TotalTime - start).TotalMilliseconds);
            (steps.TryGetValue(step + " (wall clock)", out List<double>? wallList) ? wallList : steps[step + " (wall clock)"] = []).Add(System.Diagnostics.Stopwatch.GetElapsedTime(wall).TotalMilliseconds);
        }
        for (int i = 0; i < runs; i++)
        {
            pool.RefillOne();
            using PreparedPaillierKey prepared = pool.TakePrepared(backend, 2048);
            PaillierPrivateKey key = prepared.Key;
            var x = curve.RandomScalar();
            var nonce = key.PublicKey.RandomUnit();
            var c = key.EncryptWithNonce(x, nonce);
            var X = curve.G.Multiply(x).Normalize();
            PaillierBlumModulusProof mod = null!; NoSmallFactorProof fac = null!; EncryptedDlogProof log = null!; RingPedersenProof prm = null!;
            RingPedersenSecret rp = prepared.RingPedersen ?? RingPedersenSecret.DeriveFromPaillier(key);
            Timed("prove Πmod", () => mod = PaillierBlumModulusProof.Prove(key, context));
            Timed("prove Πfac", () => fac = NoSmallFactorProof.Prove(key, auxiliary.Parameters, context));
            Timed("prove Πlog*", () => log = EncryptedDlogProof.Prove(curve, key, c, x, nonce, auxiliary.Parameters, context));
            Timed("prove Πprm (server, pooled commitments)", () => prm = RingPedersenProof.Prove(rp, context, prepared.Commitments));
            Timed("verify Πmod", () => mod.Verify(key.PublicKey, context));
            Timed("verify Πfac (mod N̂)", () => fac.Verify(key.PublicKey, auxiliary.Parameters, context));
            Timed("verify Πfac (the device: one own prime)", () => fac.Verify(key.PublicKey, auxiliary.Parameters, context, auxiliary));
            Timed("verify Πlog* (mod N̂)", () => log.Verify(curve, key.PublicKey, c, X, auxiliary.Parameters, context));
            Timed("verify Πlog* (the device: one own prime)", () => log.Verify(curve, key.PublicKey, c, X, auxiliary.Parameters, context, auxiliary));
            Timed("verify Πprm (server's)", () => prm.Verify(rp.Parameters, context, backend));
            RingPedersenProof own = null!;
            Timed("prove Πprm (client's)", () => own = RingPedersenProof.Prove(auxiliary, context));
            Timed("verify Πprm (client's)", () => own.Verify(auxiliary.Parameters, context, backend));
        }
        Console.WriteLine("each proof on its own (P-256, 2048-bit N, device parameters as in key generation), medians, CPU and wall clock:");
        foreach ((string step, List<double> values) in steps)
        {
            Console.WriteLine($"  {step}: {Median([.. values]) / f:F0} F");
        }
    }

    /// <summary>One key generation with each message's handling timed on its own: where the CPU goes.</summary>
    private static List<(string Step, double Milliseconds)> KeyGenSteps(
        RingPedersenSecret auxiliary, IBigNumBackend backend, IPaillierKeySource keys, VerifiedRingPedersenCache known)
    {
        var timings = new List<(string, double)>();
        T Timed<T>(string step, Func<T> operation)
        {
            TimeSpan start = Environment.CpuUsage.TotalTime;
            T result = operation();
            timings.Add((step, (Environment.CpuUsage.TotalTime - start).TotalMilliseconds));
            return result;
        }
        using var server = new Mpc.Protocol.KeyGen.KeyGenServerSession(Mpc.Protocol.KeyIds.New(), backend)
        {
            PaillierKeys = keys,
            KnownClientParameters = known.For("benchmark"),
        };
        var client = new Mpc.Protocol.KeyGen.KeyGenClientSession(CurveKind.P256, auxiliary, backend);
        var request = Timed("client: start", client.Start);
        var commitment = Timed("server: request (commitment to Q1, its DLog proof)", () => server.HandleRequest(request));
        var share = Timed("client: commitment (Q2 and its proof, the device's Πprm unless round 2 named its parameters)", () => client.HandleCommitment(commitment));
        var output = Timed("server: client share (checks Q2 and the device's parameters; Paillier key, Πmod, Πfac, Πlog*, Πprm)", () => server.HandleClientShare(share));
        Timed("client: server share (checks of the server's proofs)", () => client.HandleServerShare(output.Message));
        return timings;
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
