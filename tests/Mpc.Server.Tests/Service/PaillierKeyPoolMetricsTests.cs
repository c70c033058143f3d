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
        (long before, long after, IReadOnlyDictionary<string, long> last) = await AroundOneKeyGeneration("mpc.keygen.prime_pool.", "pool-metrics-user");

        Assert.True(last.ContainsKey("mpc.keygen.prime_pool.size"));
        // Each key generation takes exactly one key: from the pool if it was ready, generated inline otherwise.
        Assert.True(after >= before + 1, $"hits + misses went from {before} to {after}");
    }

    [Fact]
    public async Task Key_generation_consults_the_memory_of_verified_client_parameters_and_it_is_measured()
    {
        (long before, long after, IReadOnlyDictionary<string, long> last) = await AroundOneKeyGeneration("mpc.keygen.known_parameters.", "known-parameters-metrics-user");

        // Every key generation checks the client's parameters once: recognised (hit) or verified with Πprm (miss),
        // after which they are remembered, so the memory is not empty.
        Assert.True(after >= before + 1, $"hits + misses went from {before} to {after}");
        Assert.True(last["mpc.keygen.known_parameters.size"] >= 1);
    }

    [Fact]
    public void The_pool_refills_at_the_lowest_priority_so_it_runs_on_what_requests_leave_idle()
    {
        _ = server.Address;
        // Linux shows each thread of this process (the test server runs in it) with its name, cut to 15 characters,
        // and its nice value (field 19 of stat; the fields after the parenthesised name are space-separated). Other
        // threads come and go while the directory is read: one that has ended meanwhile is skipped.
        var refills = Directory.GetDirectories("/proc/self/task")
            .Where(task => ReadIfAlive(Path.Combine(task, "comm"))?.Trim() == "paillier-key-po")
            .Select(task => ReadIfAlive(Path.Combine(task, "stat")))
            .OfType<string>()
            .Select(stat => int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

        Assert.NotEmpty(refills);
        Assert.All(refills, nice => Assert.Equal(19, nice));
    }

    private static string? ReadIfAlive(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The instruments named <paramref name="prefix"/>*: hits + misses before and after one key generation, and the last values.</summary>
    private async Task<(long Before, long After, IReadOnlyDictionary<string, long> Last)> AroundOneKeyGeneration(string prefix, string userId)
    {
        var measurements = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (server.Measures(instrument) && instrument.Meter.Name == SignerMetrics.MeterName && instrument.Name.StartsWith(prefix, StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => measurements[i.Name] = v);
        listener.SetMeasurementEventCallback<int>((i, v, _, _) => measurements[i.Name] = v);
        listener.Start();

        listener.RecordObservableInstruments();
        long before = measurements.GetValueOrDefault(prefix + "hits") + measurements.GetValueOrDefault(prefix + "misses");
        using MpcSignerClient client = server.Client(userId);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        listener.RecordObservableInstruments();
        long after = measurements[prefix + "hits"] + measurements[prefix + "misses"];
        return (before, after, new Dictionary<string, long>(measurements));
    }
}
