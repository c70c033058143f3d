using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;

namespace Mpc.Benchmarks;

/// <summary>
/// Entry point: pick benchmarks on the command line, e.g.
/// <c>dotnet run -c Release --project bench/Mpc.Benchmarks -- --filter '*Paillier*' --job short</c>.
/// Results (markdown, csv, html) land in <c>BenchmarkDotNet.Artifacts/results</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        // The default config keeps its exporters (GitHub markdown, csv, html); we add allocation counts
        // and always show the median, which shared or noisy machines make more telling than the mean.
        IConfig config = DefaultConfig.Instance
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(StatisticColumn.Median);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
