using Mpc.Cli;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;

namespace Mpc.LoadTest;

/// <summary>The JSON result of `mpc-load` (field names unchanged since `mpc load`).</summary>
internal sealed class LoadResult
{
    public MachineInfo Machine { get; init; } = new();

    public LoadParameters Parameters { get; init; } = new();

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset MeasuredFrom { get; init; }

    public DateTimeOffset FinishedAt { get; init; }

    public bool StoppedEarly { get; init; }

    public double MeasuredSeconds { get; init; }

    /// <summary>Signatures started after the warm-up and completed.</summary>
    public long Signatures { get; init; }

    public double ThroughputPerSecond { get; init; }

    public LatencySummary LatencyMs { get; init; } = new();

    /// <summary>Failed signatures (warm-up included) by gRPC status code.</summary>
    public SortedDictionary<string, int> Errors { get; init; } = [];

    public double? ServerCpuMsPerSignature { get; init; }

    public string ServerCpuNote { get; init; } = "";

    /// <summary>The cost floor F (half an RSA-4096 private-key signature, <see cref="CostFloor"/>) in milliseconds.</summary>
    public double FloorMs { get; init; }

    /// <summary>Server CPU per signature divided by F: the machine-independent figure the speed targets use.</summary>
    public double? ServerCpuPerSignatureOverFloor { get; init; }

    /// <summary>CPU time of the load process (all simulated users' P2 work) per signature.</summary>
    public double? ClientCpuMsPerSignature { get; init; }

    /// <summary>With --precompute: the fewest prepared randomness values a simulated user held after a signature of the run.</summary>
    public int? PreparedRandomnessLeft { get; init; }

    /// <summary>True when some user's prepared randomness fell to half of --precompute, where the SDK refills it during the run.</summary>
    public bool RandomnessRefilledDuringRun => RefillRan(PreparedRandomnessLeft, Parameters.PrecomputedRandomness);

    /// <summary>
    /// Whether the SDK refilled a key's prepared randomness during the run: it starts a refill when a signature leaves
    /// half of the target (<c>MpcKey</c>'s low-water mark) or less, so the fewest values seen tell.
    /// </summary>
    public static bool RefillRan(int? fewestLeft, int precompute) =>
        precompute > 0 && fewestLeft is { } left && left <= precompute - Math.Max(1, precompute / 2);

    public static LoadResult From(
        LoadOptions options, IReadOnlyList<Uri> servers, ServerProcess? embedded, LoadMeasurement measurement, DateTimeOffset startedAt, bool stoppedEarly)
    {
        // The floor F, measured now that the load has stopped, on the same machine as the server's CPU time.
        double floorMs = CostFloor.MeasureOnce().TotalMilliseconds;
        double measuredSeconds = measurement.Measured > TimeSpan.Zero ? Math.Max(0.001, measurement.Measured.TotalSeconds) : 0;
        long signatures = measurement.Latencies.TotalCount;
        (double? serverCpuPerSignature, string serverCpuNote) = measurement.ServerCpu switch
        {
            null => ((double?)null, "unavailable: the servers are remote (CPU time is measured only for the server --embedded spawns)"),
            { Window: null } => (null, "unavailable: no signatures completed while the server process was sampled"),
            { Window: { } window } server => (
                window.Cpu.TotalMilliseconds / window.Signatures,
                $"CPU time (user + system) of the spawned mpc-server process (pid {server.ProcessId}) over the measured window, divided by the signatures completed in it"),
        };
        return new LoadResult
        {
            Machine = MachineInfo.Current(),
            Parameters = new LoadParameters
            {
                Servers = [.. servers.Select(s => s.ToString())],
                Embedded = embedded is not null,
                Users = options.Users,
                Curve = EcCurve.NameOf(options.Curve),
                DurationSeconds = options.Duration.TotalSeconds,
                WarmupSeconds = options.Warmup.TotalSeconds,
                PrecomputedRandomness = options.Precompute > 0 ? options.Precompute : new MpcSignerClientOptions().PrecomputedRandomness,
                TokenPerUser = options.Token is null,
            },
            StartedAt = startedAt,
            MeasuredFrom = measurement.MeasuredFrom,
            FinishedAt = DateTimeOffset.UtcNow,
            StoppedEarly = stoppedEarly,
            MeasuredSeconds = measuredSeconds,
            Signatures = signatures,
            ThroughputPerSecond = measuredSeconds > 0 ? signatures / measuredSeconds : 0,
            LatencyMs = LatencySummary.From(measurement.Latencies),
            Errors = measurement.Counters.ErrorsByCode(),
            ServerCpuMsPerSignature = serverCpuPerSignature,
            ServerCpuNote = serverCpuNote,
            FloorMs = floorMs,
            ServerCpuPerSignatureOverFloor = serverCpuPerSignature / floorMs,
            ClientCpuMsPerSignature = signatures > 0 ? measurement.ClientCpu.TotalMilliseconds / signatures : null,
            PreparedRandomnessLeft = measurement.PreparedRandomnessLeft,
        };
    }
}

internal sealed class LoadParameters
{
    public List<string> Servers { get; init; } = [];

    public bool Embedded { get; init; }

    public int Users { get; init; }

    public string Curve { get; init; } = "";

    public double DurationSeconds { get; init; }

    public double WarmupSeconds { get; init; }

    public int PrecomputedRandomness { get; init; }

    public bool TokenPerUser { get; init; }
}
