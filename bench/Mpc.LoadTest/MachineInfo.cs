using System.Runtime.InteropServices;
using Mpc.Crypto.BigNum;

namespace Mpc.LoadTest;

/// <summary>The machine a load run ran on, so results from different machines are not compared blindly.</summary>
internal sealed class MachineInfo
{
    public int ProcessorCount { get; init; }

    public string Cpu { get; init; } = "";

    public string Os { get; init; } = "";

    public string Architecture { get; init; } = "";

    public string DotNet { get; init; } = "";

    public string BigNumBackend { get; init; } = "";

    public static MachineInfo Current() => new()
    {
        ProcessorCount = Environment.ProcessorCount,
        Cpu = CpuModel(),
        Os = RuntimeInformation.OSDescription,
        Architecture = RuntimeInformation.OSArchitecture.ToString(),
        DotNet = RuntimeInformation.FrameworkDescription,
        BigNumBackend = BigNumBackends.Default.Name,
    };

    private static string CpuModel()
    {
        try
        {
            return File.Exists("/proc/cpuinfo")
                ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? ""
                : "";
        }
        catch (IOException)
        {
            return "";
        }
    }
}
