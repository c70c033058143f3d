using BenchmarkDotNet.Attributes;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;

namespace Mpc.Benchmarks;

/// <summary>
/// Engine-only signing: both parties in one process, no network. "Inline" computes the client's
/// c3 randomness and proof commitments during the signature; "Precomputed" takes them from a pool filled
/// before each iteration, as the SDK's background precomputation does. The baseline is a plain
/// single-party ECDSA signature on the same curve, so the ratio column is the threshold overhead.
/// </summary>
[InvocationCount(16, unrollFactor: 1)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet disposes through [GlobalCleanup].")]
public class EngineSigningBenchmarks
{
    private EngineSetup _setup = null!;
    private readonly Queue<SignCiphertextRandomness> _pool = new();
    private SinglePartySigner _baseline = null!;

    [Params(CurveKind.Secp256k1, CurveKind.P256, CurveKind.P384)]
    public CurveKind Curve { get; set; }

    [Params(BigNumBackendKind.OpenSsl)]
    public BigNumBackendKind Backend { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _setup = new EngineSetup(Curve, Backend);
        _baseline = new SinglePartySigner(Curve);
    }

    [IterationSetup(Target = nameof(SignPrecomputed))]
    public void FillPool()
    {
        while (_pool.Count < 16)
        {
            _pool.Enqueue(_setup.NewRandomness());
        }
    }

    [Benchmark(Baseline = true, Description = "single-party ECDSA (baseline)")]
    public object SinglePartyBaseline() => _baseline.Sign(_setup.Digest);

    [Benchmark(Description = "2P sign, randomness inline")]
    public EcdsaSignature SignInline() => _setup.Sign(null);

    [Benchmark(Description = "2P sign, randomness precomputed")]
    public EcdsaSignature SignPrecomputed() => _setup.Sign(_pool.Dequeue());

    [GlobalCleanup]
    public void Cleanup()
    {
        _baseline.Dispose();
        _setup.Dispose();
    }
}
