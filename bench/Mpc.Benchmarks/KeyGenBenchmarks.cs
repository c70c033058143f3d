using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;

namespace Mpc.Benchmarks;

/// <summary>
/// Distributed key generation, both parties in one process, including Paillier key generation and all
/// proofs. The client's ring-Pedersen parameters are made once per device and reused, so they are set
/// up outside the measured region; <see cref="RingPedersenSetup"/> measures that one-time cost.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 10)]
public class KeyGenBenchmarks
{
    private IBigNumBackend _backend = null!;
    private RingPedersenSecret _auxiliary = null!;

    [Params(CurveKind.P256)]
    public CurveKind Curve { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _backend = BigNumBackends.Create(BigNumBackendKind.OpenSsl);
        _auxiliary = RingPedersenSecret.Generate(_backend);
    }

    [Benchmark(Description = "keygen, both parties")]
    public object KeyGen() => EngineSetup.KeyGen(Curve, _auxiliary, _backend);

    [Benchmark(Description = "client ring-Pedersen setup (once per device)")]
    public RingPedersenSecret RingPedersenSetup() => RingPedersenSecret.Generate(_backend);

    [GlobalCleanup]
    public void Cleanup() => _auxiliary.Dispose();
}
