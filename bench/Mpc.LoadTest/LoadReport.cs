using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mpc.LoadTest;

/// <summary>A load result as the summary table on the console and as JSON.</summary>
internal static class LoadReport
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string ToJson(LoadResult result) => JsonSerializer.Serialize(result, JsonOptions);

    public static LoadResult FromJson(string json) =>
        JsonSerializer.Deserialize<LoadResult>(json, JsonOptions) ?? throw new FormatException("empty load result");

    public static void PrintSummary(LoadResult result, TextWriter output)
    {
        LoadParameters p = result.Parameters;
        LatencySummary l = result.LatencyMs;
        string errors = result.Errors.Count == 0 ? "none" : string.Join(", ", result.Errors.Select(e => $"{e.Key} {e.Value}"));
        string serverCpu = result.ServerCpuMsPerSignature is { } cpu ? FormattableString.Invariant($"{cpu:F2} ms") : "n/a (" + result.ServerCpuNote + ")";
        string clientCpu = result.ClientCpuMsPerSignature is { } client ? FormattableString.Invariant($"{client:F2} ms") : "n/a";
        var rows = new (string Name, string Value)[]
        {
            ("servers", string.Join(", ", p.Servers) + (p.Embedded ? " (mpc-server, spawned)" : "")),
            ("curve / users", $"{p.Curve} / {p.Users}{(p.TokenPerUser ? "" : " (one shared token)")}"),
            ("machine", $"{result.Machine.ProcessorCount} cores, {result.Machine.Os}, {result.Machine.DotNet}, {result.Machine.BigNumBackend}"),
            ("measured", FormattableString.Invariant($"{result.MeasuredSeconds:F1} s after {p.WarmupSeconds:F0} s warm-up{(result.StoppedEarly ? " (stopped early)" : "")}")),
            ("signatures", result.Signatures.ToString(CultureInfo.InvariantCulture)),
            ("throughput", FormattableString.Invariant($"{result.ThroughputPerSecond:F1} signatures/s")),
            ("latency p50", FormattableString.Invariant($"{l.P50:F2} ms")),
            ("latency p95", FormattableString.Invariant($"{l.P95:F2} ms")),
            ("latency p99", FormattableString.Invariant($"{l.P99:F2} ms")),
            ("latency max", FormattableString.Invariant($"{l.Max:F2} ms")),
            ("errors", errors),
            ("server CPU / signature", serverCpu),
            ("floor F", FormattableString.Invariant($"{result.FloorMs:F2} ms (half an RSA-4096 signature, measured after the run)")),
            ("server CPU / F", result.ServerCpuPerSignatureOverFloor is { } ratio ? FormattableString.Invariant($"{ratio:F2}") : "n/a"),
            ("client CPU / signature", clientCpu + " (this process: all simulated users)"),
        };
        if (result.PreparedRandomnessLeft is { } left)
        {
            rows = [.. rows, ("randomness left", result.RandomnessRefilledDuringRun
                ? $"{left} of {p.PrecomputedRandomness} at the fewest: the clients refilled it during the run, on the server's cores; shorten --warmup and --duration or raise --precompute"
                : $"{left} of {p.PrecomputedRandomness} at the fewest (no refill ran during the run)")];
        }
        int width = rows.Max(r => r.Name.Length);
        foreach ((string name, string value) in rows)
        {
            output.WriteLine($"  {name.PadRight(width)}  {value}");
        }
    }
}
