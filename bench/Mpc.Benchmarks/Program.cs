using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Mpc.Benchmarks;

/// <summary>
/// Entry point: pick benchmarks on the command line, e.g.
/// <c>dotnet run -c Release --project bench/Mpc.Benchmarks -- --filter '*Paillier*' --job short</c>.
/// Results (markdown, csv, html) land in <c>BenchmarkDotNet.Artifacts/results</c>.
/// </summary>
public static class Program
{
    /// <summary>Non-zero when a benchmark failed to build or run, so the CI smoke run can fail on it.</summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--keygen-cpu")
        {
            return KeyGenCpuHarness.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5);
        }
        // The default config keeps its exporters (GitHub markdown, csv, html); we add allocation counts
        // and always show the median, which shared or noisy machines make more telling than the mean.
        IConfig config = DefaultConfig.Instance
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(StatisticColumn.Median)
            // Each benchmark class is built as its own project; BenchmarkDotNet's 2-minute default is too short for
            // that on a loaded 2-core machine (a CI smoke run lost every benchmark of a class to it).
            .WithBuildTimeout(TimeSpan.FromMinutes(10));
        IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success) || s.Reports.Length < s.BenchmarksCases.Length);
        return failed ? 1 : 0;
    }
}
