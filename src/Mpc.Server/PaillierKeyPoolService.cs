using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Mpc.Crypto.Paillier;
using Mpc.Protocol.Keys;
using Mpc.Grains.Telemetry;

namespace Mpc.Server;

/// <summary>
/// Keeps the server's <see cref="PaillierKeyPool"/> full from a dedicated lowest-priority thread (nice 19 on Linux), off the
/// Orleans scheduler and the thread pool that serve requests, and reports the pool on the signer's meter:
/// mpc.keygen.prime_pool.size (gauge), mpc.keygen.prime_pool.hits and .misses (counters), and the memory of verified client
/// ring-Pedersen parameters: mpc.keygen.known_parameters.size (gauge), .hits and .misses. The pool lives in memory only and is wiped on shutdown.
/// </summary>
internal sealed class PaillierKeyPoolService : IHostedService, IDisposable
{
    private readonly PaillierKeyPool _pool;
    private readonly KeyGenServerOptions _options;
    private readonly ILogger<PaillierKeyPoolService> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Thread? _refill;

    public PaillierKeyPoolService(
        PaillierKeyPool pool, VerifiedRingPedersenCache knownParameters, MpcServerOptions options, IMeterFactory meterFactory, ILogger<PaillierKeyPoolService> logger)
    {
        _pool = pool;
        _options = options.KeyGen;
        _logger = logger;
        Meter meter = meterFactory.Create(SignerMetrics.MeterName);
        meter.CreateObservableGauge("mpc.keygen.prime_pool.size", () => _pool.Count, description: "Ready Paillier keys in the pool");
        meter.CreateObservableCounter("mpc.keygen.prime_pool.hits", () => _pool.Hits, description: "Key generations and refreshes served from the pool");
        meter.CreateObservableCounter("mpc.keygen.prime_pool.misses", () => _pool.Misses, description: "Key generations and refreshes that generated their Paillier key inline");
        meter.CreateObservableGauge("mpc.keygen.known_parameters.size", () => knownParameters.Count, description: "Client ring-Pedersen parameter sets remembered as verified");
        meter.CreateObservableCounter("mpc.keygen.known_parameters.hits", () => knownParameters.Hits, description: "Client ring-Pedersen parameter sets recognised as verified (Πprm skipped)");
        meter.CreateObservableCounter("mpc.keygen.known_parameters.misses", () => knownParameters.Misses, description: "Client ring-Pedersen parameter sets verified");
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.PrimePoolRefill && _pool.Capacity > 0)
        {
            _refill = new Thread(() => Refill(_stopping.Token)) { IsBackground = true, Name = "paillier-key-pool" };
            _refill.Start();
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        // The thread finishes the prime search it is in (a second or so) and exits; shutdown does not wait for it.
        _pool.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _pool.Dispose();
        _stopping.Dispose();
    }

    private void Refill(CancellationToken cancellationToken)
    {
        // The refill runs on what requests leave idle: otherwise, on a small node, the key generation that took a key
        // shares its cores with the search for that key's replacement.
        if (!BackgroundThreadPriority.LowerCurrentThread())
        {
            _logger.LogWarning("Could not lower the Paillier key pool's thread priority; its refills compete with requests for the CPU.");
        }
        try
        {
            _pool.RunRefill(cancellationToken);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Inline generation still serves every request; the pool only makes them faster.
            _logger.LogError(e, "The Paillier key pool stopped refilling; key generations generate their keys inline.");
        }
    }
}
