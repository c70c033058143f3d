using System.Collections.Concurrent;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Proofs;

namespace Mpc.Benchmarks;

/// <summary>
/// One client's ring-Pedersen parameters per backend, made once per process. They are a once-per-device
/// cost (two safe primes, 0.8–1.6 s) that no benchmark except <see cref="KeyGenBenchmarks.RingPedersenSetup"/>
/// measures, so every setup in a process shares them. Never disposed: they live as long as the process.
/// </summary>
internal static class SharedRingPedersen
{
    private static readonly ConcurrentDictionary<string, Lazy<RingPedersenSecret>> Secrets = new(StringComparer.Ordinal);

    public static RingPedersenSecret For(IBigNumBackend backend) =>
        Secrets.GetOrAdd(backend.Name, _ => new Lazy<RingPedersenSecret>(() => RingPedersenSecret.Generate(backend))).Value;
}
