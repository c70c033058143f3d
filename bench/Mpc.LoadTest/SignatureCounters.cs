using System.Collections.Concurrent;

namespace Mpc.LoadTest;

/// <summary>Signature and error counts shared by the simulated users.</summary>
internal sealed class SignatureCounters
{
    private readonly ConcurrentDictionary<string, int> _errors = new(StringComparer.Ordinal);
    private long _total;
    private long _measured;
    private long _errorCount;

    public long Total => Interlocked.Read(ref _total);

    /// <summary>Signatures started after the warm-up and completed.</summary>
    public long Measured => Interlocked.Read(ref _measured);

    public long Errors => Interlocked.Read(ref _errorCount);

    public void Signed(bool measured)
    {
        Interlocked.Increment(ref _total);
        if (measured)
        {
            Interlocked.Increment(ref _measured);
        }
    }

    public void Failed(string code)
    {
        Interlocked.Increment(ref _errorCount);
        _errors.AddOrUpdate(code, 1, (_, n) => n + 1);
    }

    public SortedDictionary<string, int> ErrorsByCode() => new(_errors, StringComparer.Ordinal);
}
