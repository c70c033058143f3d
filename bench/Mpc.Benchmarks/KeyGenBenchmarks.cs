using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
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
    private (Mpc.Protocol.Keys.ServerKeyShare Server, Mpc.Protocol.Keys.ClientKeyShare Client) _key;

    [Params(CurveKind.P256)]
    public CurveKind Curve { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _backend = BigNumBackends.Create(BigNumBackendKind.OpenSsl);
        _auxiliary = SharedRingPedersen.For(_backend);
        _key = EngineSetup.KeyGen(Curve, _auxiliary, _backend);
    }

    [Benchmark(Description = "keygen, both parties")]
    public object KeyGen() => EngineSetup.KeyGen(Curve, _auxiliary, _backend);

    /// <summary>A share refresh (also the work of an import, enrolment, backup or restore): new Paillier key and proofs.</summary>
    [Benchmark(Description = "refresh, both parties")]
    public object Refresh() => EngineSetup.Refresh(_key.Server, _key.Client, _auxiliary, _backend);

    [Benchmark(Description = "client ring-Pedersen setup (once per device)")]
    public RingPedersenSecret RingPedersenSetup() => RingPedersenSecret.Generate(_backend);
}
