namespace Mpc.Server;

/// <summary>
/// When a mounted file is looked at again: at most once per <see cref="Interval"/>, by one caller at a time. The TLS
/// handshakes that ask meanwhile go on with what is loaded rather than wait for the file system.
/// </summary>
internal sealed class FileRecheck(TimeProvider time)
{
    /// <summary>How often, at most, a file is looked at: a change is in use within this much of being written.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly Lock _checking = new();
    private long _nextCheckTicks = time.GetUtcNow().UtcTicks + Interval.Ticks;

    /// <summary>Runs <paramref name="check"/> when a check is due and no other caller is running one.</summary>
    public void IfDue(Action check)
    {
        long now = time.GetUtcNow().UtcTicks;
        if (now < Interlocked.Read(ref _nextCheckTicks) || !_checking.TryEnter())
        {
            return;
        }
        try
        {
            if (now >= _nextCheckTicks)
            {
                Interlocked.Exchange(ref _nextCheckTicks, now + Interval.Ticks);
                check();
            }
        }
        finally
        {
            _checking.Exit();
        }
    }
}
