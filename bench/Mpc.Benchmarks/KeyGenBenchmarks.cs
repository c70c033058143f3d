using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;

namespace Mpc.Benchmarks;

/// <summary>
/// Distributed key generation, both parties in one process, including Paillier key generation and all
/// proofs. The client's ring-Pedersen parameters are made once per device and reused, so they are set
/// up outside the measured region; <see cref="RingPedersenSetup"/> measures that one-time cost.
/// Each call takes about a second, so without a job on the command line these run as 10 monitored
/// iterations; a job named on the command line (<c>--job dry</c>, <c>--job short</c>) replaces that.
/// </summary>
[Config(typeof(MonitoringUnlessJobGiven))]
public class KeyGenBenchmarks
{
    /// <summary>
    /// A job attribute would run in addition to a command-line job (BenchmarkDotNet unions them), turning
    /// the dry smoke run into ten key generations; this config adds its job only when none was named.
    /// </summary>
    private sealed class MonitoringUnlessJobGiven : ManualConfig
    {
        public MonitoringUnlessJobGiven()
        {
            string[] args = Environment.GetCommandLineArgs();
            bool jobGiven = args.Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal));
            if (!jobGiven)
            {
                AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(10));
            }
        }
    }

    private IBigNumBackend _backend = null!;
    private RingPedersenSecret _auxiliary = null!;
    private CostFloor _floor = null!;
    private PaillierKeyPool _pool = null!;
    private Mpc.Protocol.Keys.VerifiedRingPedersenCache _knownParameters = null!;
    private (Mpc.Protocol.Keys.ServerKeyShare Server, Mpc.Protocol.Keys.ClientKeyShare Client) _key;

    [Params(CurveKind.P256)]
    public CurveKind Curve { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _backend = BigNumBackends.Create(BigNumBackendKind.OpenSsl);
        _auxiliary = SharedRingPedersen.For(_backend);
        _floor = CostFloor.Create();
        // The server's pool of ready Paillier keys, filled before each iteration (IterationSetup, outside the
        // measurement) as the server's background thread keeps it full between requests.
        _pool = CreatePool(_backend);
        // The server's memory of client parameters it verified: the warm rows' device is known from this first key.
        _knownParameters = new Mpc.Protocol.Keys.VerifiedRingPedersenCache(capacity: 16);
        _key = EngineSetup.KeyGen(Curve, _auxiliary, _backend, knownParameters: _knownParameters);
    }

    /// <summary>BenchmarkDotNet's GlobalCleanup disposes it (benchmark classes cannot be sealed disposables).</summary>
    private static PaillierKeyPool CreatePool(IBigNumBackend backend) => new(backend, 2048, capacity: 1);

    [IterationSetup(Targets = [nameof(KeyGenWarm), nameof(RefreshWarm)])]
    public void FillPool() => _pool.RefillOne();

    [GlobalCleanup]
    public void Cleanup()
    {
        // Misses mean an iteration ran more than one invocation: its extra calls generated inline like the cold rows.
        Console.WriteLine($"// Paillier key pool: {_pool.Hits} hits, {_pool.Misses} misses; known client parameters: {_knownParameters.Hits} hits, {_knownParameters.Misses} misses");
        _pool.Dispose();
        _floor.Dispose();
    }

    /// <summary>F: half of one RSA-4096 signature (`openssl speed rsa4096` sign time / 2); the Ratio column is "row / F".</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = 2, Description = "F (half an RSA-4096 signature)")]
    public byte[] Floor() => _floor.SignOnce();

    /// <summary>
    /// The server takes a ready Paillier key (with its Πprm commitments) from its pool; the client's ring-Pedersen parameters
    /// are the device's, which the server has verified before.
    /// </summary>
    [Benchmark(Description = "keygen, both parties, warm pool + device parameters")]
    public object KeyGenWarm() => EngineSetup.KeyGen(Curve, _auxiliary, _backend, _pool, _knownParameters);

    /// <summary>No pool and no memory of the device: the server searches for its two Blum primes and verifies Πprm inline.</summary>
    [Benchmark(Description = "keygen, both parties, cold (no pool)")]
    public object KeyGen() => EngineSetup.KeyGen(Curve, _auxiliary, _backend);

    /// <summary>A share refresh (also the work of an import, enrolment, backup or restore) with a ready Paillier key.</summary>
    [Benchmark(Description = "refresh, both parties, warm pool + device parameters")]
    public object RefreshWarm() => EngineSetup.Refresh(_key.Server, _key.Client, _auxiliary, _backend, _pool, _knownParameters);

    /// <summary>A share refresh generating its Paillier key inline.</summary>
    [Benchmark(Description = "refresh, both parties, cold (no pool)")]
    public object Refresh() => EngineSetup.Refresh(_key.Server, _key.Client, _auxiliary, _backend);

    [Benchmark(Description = "client ring-Pedersen setup (once per device)")]
    public RingPedersenSecret RingPedersenSetup() => RingPedersenSecret.Generate(_backend);
}
