using HdrHistogram;

namespace Mpc.LoadTest;

/// <summary>Per-signature latency in milliseconds, read from an HdrHistogram of microseconds (three significant digits).</summary>
internal sealed class LatencySummary
{
    public double Min { get; init; }

    public double Mean { get; init; }

    public double P50 { get; init; }

    public double P95 { get; init; }

    public double P99 { get; init; }

    public double Max { get; init; }

    public static LatencySummary From(HistogramBase microseconds) => microseconds.TotalCount == 0 ? new LatencySummary() : new LatencySummary
    {
        Min = Milliseconds(microseconds.GetValueAtPercentile(0)),
        Mean = microseconds.GetMean() / 1000.0,
        P50 = Milliseconds(microseconds.GetValueAtPercentile(50)),
        P95 = Milliseconds(microseconds.GetValueAtPercentile(95)),
        P99 = Milliseconds(microseconds.GetValueAtPercentile(99)),
        Max = Milliseconds(microseconds.GetMaxValue()),
    };

    private static double Milliseconds(long microseconds) => microseconds / 1000.0;
}
