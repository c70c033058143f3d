using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Grains.Telemetry;

namespace Mpc.Server.Tests.Service;

/// <summary>The server's pool of ready Paillier keys serves key generation and reports itself on the signer meter.</summary>
[Collection("server")]
public sealed class PaillierKeyPoolMetricsTests(ServerFixture server)
{
    [Fact]
    public async Task Key_generation_takes_from_the_pool_and_the_pool_is_measured()
    {
        var measurements = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SignerMetrics.MeterName && instrument.Name.StartsWith("mpc.keygen.prime_pool.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => measurements[i.Name] = v);
        listener.SetMeasurementEventCallback<int>((i, v, _, _) => measurements[i.Name] = v);
        listener.Start();

        listener.RecordObservableInstruments();
        long before = measurements.GetValueOrDefault("mpc.keygen.prime_pool.hits") + measurements.GetValueOrDefault("mpc.keygen.prime_pool.misses");
        using MpcSignerClient client = server.Client("pool-metrics-user");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        listener.RecordObservableInstruments();

        Assert.True(measurements.ContainsKey("mpc.keygen.prime_pool.size"));
        long after = measurements["mpc.keygen.prime_pool.hits"] + measurements["mpc.keygen.prime_pool.misses"];
        // Each key generation takes exactly one key: from the pool if it was ready, generated inline otherwise.
        Assert.True(after >= before + 1, $"hits + misses went from {before} to {after}");
    }
}
