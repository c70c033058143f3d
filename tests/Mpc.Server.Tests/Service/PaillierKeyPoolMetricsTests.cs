using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Grains.Telemetry;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// The server's pool of ready Paillier keys and its memory of verified client ring-Pedersen parameters serve key
/// generation and report themselves on the signer meter.
/// </summary>
[Collection("server")]
public sealed class PaillierKeyPoolMetricsTests(ServerFixture server)
{
    [Fact]
    public async Task Key_generation_takes_from_the_pool_and_the_pool_is_measured()
    {
        var measurements = new ConcurrentDictionary<string, long>();
        using MeterListener listener = Listen("mpc.keygen.prime_pool.", measurements);

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

    [Fact]
    public async Task Key_generation_consults_the_memory_of_verified_client_parameters_and_it_is_measured()
    {
        var measurements = new ConcurrentDictionary<string, long>();
        using MeterListener listener = Listen("mpc.keygen.known_parameters.", measurements);

        listener.RecordObservableInstruments();
        long before = measurements.GetValueOrDefault("mpc.keygen.known_parameters.hits") + measurements.GetValueOrDefault("mpc.keygen.known_parameters.misses");
        using MpcSignerClient client = server.Client("known-parameters-metrics-user");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        listener.RecordObservableInstruments();

        // Every key generation checks the client's parameters once: recognised (hit) or verified with Πprm (miss),
        // after which they are remembered, so the memory is not empty.
        long after = measurements["mpc.keygen.known_parameters.hits"] + measurements["mpc.keygen.known_parameters.misses"];
        Assert.True(after >= before + 1, $"hits + misses went from {before} to {after}");
        Assert.True(measurements["mpc.keygen.known_parameters.size"] >= 1);
    }

    private static MeterListener Listen(string prefix, ConcurrentDictionary<string, long> measurements)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SignerMetrics.MeterName && instrument.Name.StartsWith(prefix, StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => measurements[i.Name] = v);
        listener.SetMeasurementEventCallback<int>((i, v, _, _) => measurements[i.Name] = v);
        listener.Start();
        return listener;
    }
}
