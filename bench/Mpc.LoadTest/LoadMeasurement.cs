using System.Diagnostics;
using HdrHistogram;
using Mpc.Cli;

namespace Mpc.LoadTest;

/// <summary>The warm-up and measured window of one run: latencies, counts, and the CPU time of both processes.</summary>
internal sealed class LoadMeasurement
{
    /// <summary>How long in-flight signatures may finish after the run stops (duration reached or Ctrl+C).</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(1);

    private LoadMeasurement(
        LongHistogram latencies, SignatureCounters counters, TimeSpan measured, DateTimeOffset measuredFrom, TimeSpan clientCpu, ServerCpuWindow? serverCpu, int? randomnessLeft)
    {
        PreparedRandomnessLeft = randomnessLeft;
        Latencies = latencies;
        Counters = counters;
        Measured = measured;
        MeasuredFrom = measuredFrom;
        ClientCpu = clientCpu;
        ServerCpu = serverCpu;
    }

    /// <summary>Latencies of the signatures started after the warm-up, in microseconds.</summary>
    public LongHistogram Latencies { get; }

    public SignatureCounters Counters { get; }

    /// <summary>The measured window (zero if the run stopped during the warm-up).</summary>
    public TimeSpan Measured { get; }

    public DateTimeOffset MeasuredFrom { get; }

    /// <summary>CPU time of this process (every simulated user's P2 work) over the measured window.</summary>
    public TimeSpan ClientCpu { get; }

    /// <summary>CPU time of the spawned server over the measured window, with the signatures completed in it; null without one.</summary>
    public ServerCpuWindow? ServerCpu { get; }

    /// <summary>
    /// With <c>--precompute</c>: the fewest prepared randomness values any simulated user held after a signature of this
    /// run. At or below half of <c>--precompute</c> the SDK refills its pool in the background, so the clients' r^N work
    /// ran during the run and competed with the server for the same cores.
    /// </summary>
    public int? PreparedRandomnessLeft { get; }

    public static async Task<LoadMeasurement> RunAsync(
        LoadOptions options, SimulatedUser[] users, ServerProcess? server, TextWriter progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan measureFrom = options.Warmup;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(options.Warmup + options.Duration);
        // Cancels signatures still in flight a moment after the stop, so Ctrl+C is prompt even against a stuck server.
        using var abandon = new CancellationTokenSource();
        using CancellationTokenRegistration drain = stop.Token.Register(() => abandon.CancelAfter(DrainTimeout));
        var counters = new SignatureCounters();

        Task all = Task.WhenAll(users.Select(user =>
            Task.Run(() => user.RunAsync(options.Curve, clock, measureFrom, counters, stop.Token, abandon.Token), CancellationToken.None)));

        CpuSample? serverFrom = null;
        CpuSample? serverLast = null;
        TimeSpan clientCpuFrom = TimeSpan.Zero;
        DateTimeOffset measuredFromAt = DateTimeOffset.UtcNow;
        long lastCount = 0;
        TimeSpan lastTick = TimeSpan.Zero;
        bool measuring = false;
        while (!all.IsCompleted)
        {
            TimeSpan nextTick = lastTick + options.ProgressInterval;
            TimeSpan wait = !measuring && measureFrom < nextTick ? measureFrom - clock.Elapsed : nextTick - clock.Elapsed;
            await Task.WhenAny(all, Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, CancellationToken.None));
            TimeSpan now = clock.Elapsed;
            if (!measuring && now >= measureFrom)
            {
                measuring = true;
                measuredFromAt = DateTimeOffset.UtcNow;
                clientCpuFrom = Environment.CpuUsage.TotalTime;
                serverFrom = Sample(server, counters);
            }
            if (measuring && Sample(server, counters) is { } sample)
            {
                serverLast = sample;
            }
            if (now >= nextTick && !all.IsCompleted)
            {
                long total = counters.Total;
                double rate = (total - lastCount) / (now - lastTick).TotalSeconds;
                progress.WriteLine(FormattableString.Invariant(
                    $"[{now.TotalSeconds,6:F1} s] {(measuring ? "measuring" : "warm-up  ")}  signatures {total,7}  rate {rate,7:F1}/s  errors {counters.Errors}"));
                (lastCount, lastTick) = (total, now);
            }
        }
        await all;
        TimeSpan stoppedAt = clock.Elapsed;
        TimeSpan clientCpu = Environment.CpuUsage.TotalTime - clientCpuFrom;
        if (measuring && Sample(server, counters) is { } final)
        {
            serverLast = final;
        }

        var latencies = SimulatedUser.NewHistogram();
        foreach (SimulatedUser user in users)
        {
            latencies.Add(user.Latencies);
        }
        ServerCpuWindow? serverCpu = server is null
            ? null
            : new ServerCpuWindow(server.ProcessId, serverFrom is { } from && serverLast is { } last && last.Signatures > from.Signatures
                ? (last.Cpu - from.Cpu, last.Signatures - from.Signatures)
                : null);
        int? randomnessLeft = options.Precompute > 0 && users.Length > 0 ? users.Min(u => Math.Min(u.FewestPreparedRandomness, u.PreparedRandomness)) : null;
        return new LoadMeasurement(latencies, counters, measuring ? stoppedAt - measureFrom : TimeSpan.Zero, measuredFromAt, clientCpu, serverCpu, randomnessLeft);
    }

    /// <summary>The server's CPU time now, with the measured signature count it goes with; null without a live server.</summary>
    private static CpuSample? Sample(ServerProcess? server, SignatureCounters counters) =>
        server?.CpuTime() is { } cpu ? new CpuSample(cpu, counters.Measured) : null;

    private readonly record struct CpuSample(TimeSpan Cpu, long Signatures);
}

/// <summary>The spawned server's CPU time over the measured window and the signatures completed in it (null if none were).</summary>
internal sealed record ServerCpuWindow(int ProcessId, (TimeSpan Cpu, long Signatures)? Window);
