using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// The cost floor F that speed targets are stated against: half of one RSA-4096 private-key signature on this
/// machine, now. An RSA-4096 CRT signature is two constant-time exponentiations with a 2048-bit modulus and a
/// 2048-bit exponent, i.e. the same work as the two 2048-bit-modulus, 1024-bit-exponent exponentiations a CRT
/// Paillier decryption with a 2048-bit N cannot avoid; so F is what `openssl speed rsa4096` reports as sign
/// time, halved. Measured in-process through .NET's RSA (OpenSSL's libcrypto on Linux), on the same machine
/// and at the same time as the figure it is compared to.
/// </summary>
public sealed class CostFloor : IDisposable
{
    private static readonly byte[] Digest = SHA256.HashData("mpc-signer cost floor"u8);
    private readonly RSA _rsa;

    private CostFloor(RSA rsa) => _rsa = rsa;

    /// <summary>Generates the RSA-4096 key once (a second or so): keep the instance to measure repeatedly.</summary>
    public static CostFloor Create()
    {
        var rsa = RSA.Create(4096);
        // RSA.Create generates lazily; sign once so generation is not part of any measurement.
        rsa.SignHash(Digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return new CostFloor(rsa);
    }

    /// <summary>F measured now: a fresh key, then <see cref="Measure(int)"/>.</summary>
    public static TimeSpan MeasureOnce(int signatures = 25)
    {
        using CostFloor floor = Create();
        return floor.Measure(signatures);
    }

    /// <summary>One RSA-4096 private-key signature: two floors of work (benchmarks count it as two operations).</summary>
    public byte[] SignOnce() => _rsa.SignHash(Digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>
    /// CPU time per signature (of this thread), halved: the median over batches of <see cref="BatchSize"/> signatures. CPU time
    /// rather than wall time, like `openssl speed` (which divides by user CPU time unless told -elapsed) and like
    /// the server CPU per signature it is compared to, so a busy shared machine inflates neither side.
    /// </summary>
    public TimeSpan Measure(int signatures = 25)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(signatures, BatchSize);
        SignOnce();
        var batches = new TimeSpan[signatures / BatchSize];
        for (int b = 0; b < batches.Length; b++)
        {
            TimeSpan start = CpuTimeOfThisThread();
            for (int i = 0; i < BatchSize; i++)
            {
                SignOnce();
            }
            batches[b] = CpuTimeOfThisThread() - start;
        }
        Array.Sort(batches);
        return batches[batches.Length / 2] / (2 * BatchSize);
    }

    /// <summary>
    /// CPU time of the calling thread (the signatures run on it): the process's total would also count whatever else
    /// the process does meanwhile, e.g. a load tool's clients refilling their randomness pools in the background,
    /// which once made F read six times too high. Linux has a per-thread clock; elsewhere the process total is used.
    /// </summary>
    private static TimeSpan CpuTimeOfThisThread()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(ThreadCpuTimeClock, out TimeSpec now) == 0)
        {
            return TimeSpan.FromTicks(now.Seconds * TimeSpan.TicksPerSecond + now.Nanoseconds / 100);
        }
        return Environment.CpuUsage.TotalTime;
    }

    private const int ThreadCpuTimeClock = 3; // CLOCK_THREAD_CPUTIME_ID

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>Signatures per timed batch: long enough for the CPU-time clock's resolution.</summary>
    public const int BatchSize = 5;

    public void Dispose() => _rsa.Dispose();
}
