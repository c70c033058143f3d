using System.Text.Json;
using Mpc.Crypto.Curves;
using Mpc.LoadTest;

namespace Mpc.LoadTest.Tests;

/// <summary>
/// `mpc-load --embedded` (bench/Mpc.LoadTest) for a few seconds with two users: the spawned mpc-server, the result and its JSON.
/// No timing thresholds here; speed targets live in the benchmarks and docs/benchmarks.md.
/// </summary>
public sealed class LoadToolTests
{
    [Fact]
    public async Task An_embedded_load_run_signs_without_errors_and_writes_ordered_percentiles()
    {
        var progress = new StringWriter();
        // Bounded, not timed: key generation alone took 50 s on the shared 2-core machine.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        LoadResult result = await LoadRunner.RunAsync(new LoadOptions
        {
            Embedded = true,
            Users = 2,
            Curve = CurveKind.P256,
            Warmup = TimeSpan.FromSeconds(0.5),
            Duration = TimeSpan.FromSeconds(3),
        }, progress, timeout.Token);

        string json = LoadReport.ToJson(result);
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        long signatures = root.GetProperty("signatures").GetInt64();
        Assert.True(signatures > 0, progress.ToString());
        Assert.Empty(root.GetProperty("errors").EnumerateObject());
        JsonElement latency = root.GetProperty("latencyMs");
        double p50 = latency.GetProperty("p50").GetDouble();
        double p95 = latency.GetProperty("p95").GetDouble();
        double p99 = latency.GetProperty("p99").GetDouble();
        double max = latency.GetProperty("max").GetDouble();
        Assert.True(0 < p50 && p50 <= p95 && p95 <= p99 && p99 <= max, $"p50 {p50}, p95 {p95}, p99 {p99}, max {max}");
        Assert.True(root.GetProperty("throughputPerSecond").GetDouble() > 0);
        double serverCpu = root.GetProperty("serverCpuMsPerSignature").GetDouble();
        Assert.True(serverCpu > 0, root.GetProperty("serverCpuNote").GetString());
        double floor = root.GetProperty("floorMs").GetDouble();
        Assert.True(floor > 0);
        Assert.Equal(serverCpu / floor, root.GetProperty("serverCpuPerSignatureOverFloor").GetDouble(), 9);
        Assert.True(root.GetProperty("machine").GetProperty("processorCount").GetInt32() > 0);
        Assert.Equal("P-256", root.GetProperty("parameters").GetProperty("curve").GetString());
        Assert.Equal(2, root.GetProperty("parameters").GetProperty("users").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("machine").GetProperty("bigNumBackend").GetString()));

        // The summary and a round trip through the reader of the same schema.
        var summary = new StringWriter();
        LoadReport.PrintSummary(result, summary);
        Assert.Contains("throughput", summary.ToString(), StringComparison.Ordinal);
        Assert.Contains("floor F", summary.ToString(), StringComparison.Ordinal);
        Assert.Contains("server CPU / F", summary.ToString(), StringComparison.Ordinal);
        Assert.Equal(signatures, LoadReport.FromJson(json).Signatures);
        Assert.Contains("measuring", progress.ToString(), StringComparison.Ordinal);
        Assert.Contains("mpc-server", root.GetProperty("serverCpuNote").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400, 201, false)]
    [InlineData(400, 200, true)]
    [InlineData(400, 0, true)]
    [InlineData(1, 0, true)]
    [InlineData(1, 1, false)]
    [InlineData(0, 0, false)]
    public void A_run_that_used_up_half_of_its_prepared_randomness_is_flagged(int precompute, int fewestLeft, bool flagged)
    {
        Assert.Equal(flagged, LoadResult.RefillRan(fewestLeft, precompute));
        var result = new LoadResult
        {
            Parameters = new LoadParameters { PrecomputedRandomness = precompute },
            PreparedRandomnessLeft = precompute > 0 ? fewestLeft : null,
        };
        var summary = new StringWriter();
        LoadReport.PrintSummary(result, summary);
        Assert.Equal(flagged, summary.ToString().Contains("refilled it during the run", StringComparison.Ordinal));
        Assert.Equal(precompute > 0, summary.ToString().Contains("randomness left", StringComparison.Ordinal));
        Assert.Equal(flagged, LoadReport.FromJson(LoadReport.ToJson(result)).RandomnessRefilledDuringRun);
    }

    [Fact]
    public void Latency_percentiles_come_from_the_histogram_in_milliseconds()
    {
        var histogram = SimulatedUser.NewHistogram();
        for (long microseconds = 1_000; microseconds <= 100_000; microseconds += 1_000)
        {
            histogram.RecordValue(microseconds); // 1 ms .. 100 ms, one each
        }
        LatencySummary summary = LatencySummary.From(histogram);
        // Three significant digits: each value within 0.1 % of the exact nearest-rank percentile.
        Assert.Equal(1.0, summary.Min, 0.001);
        Assert.Equal(50.0, summary.P50, 0.05);
        Assert.Equal(95.0, summary.P95, 0.1);
        Assert.Equal(99.0, summary.P99, 0.1);
        Assert.Equal(100.0, summary.Max, 0.1);
        Assert.Equal(50.5, summary.Mean, 0.1);
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("500ms", 0.5)]
    [InlineData("2m", 120)]
    [InlineData("00:00:30", 30)]
    public void Durations_parse(string text, double seconds)
    {
        Assert.True(Durations.TryParse(text, out TimeSpan value));
        Assert.Equal(seconds, value.TotalSeconds, 6);
    }

    [Fact]
    public async Task Embedded_and_an_explicit_server_exclude_each_other()
    {
        await Assert.ThrowsAsync<LoadSetupException>(() => LoadRunner.RunAsync(
            new LoadOptions { Embedded = true, Servers = [new Uri("http://127.0.0.1:1")] }, TextWriter.Null, CancellationToken.None));
    }
}
