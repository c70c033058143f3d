using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mpc.Server;

/// <summary>
/// What a mounted file holds (a certificate, CAs), read again when the file changes: each use looks at it at most once
/// per <see cref="Interval"/>, one caller at a time (the TLS handshakes that ask meanwhile take what is loaded rather
/// than wait for the file system), and reads it again when its content changed.
/// <para>
/// The content is compared, not a file time: Kubernetes updates a Secret by pointing the <c>..data</c> symlink at a new
/// directory, so the path stays the same, its times may not change and a file watcher on it sees nothing.
/// </para>
/// <para>
/// A changed file that does not load (half-written, refused by the reader's checks) leaves the current value in place, is
/// logged once per state of the file as a warning naming the setting and the problems (which the reader words: never a
/// key's bytes), and is tried again at the next check.
/// </para>
/// </summary>
internal sealed class MountedFile<T> where T : class
{
    /// <summary>How often, at most, the file is looked at: a change is in use within this much of being written.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly string _setting;
    private readonly string _path;
    private readonly string _what;
    private readonly Func<byte[], List<string>, T?> _read;
    private readonly Func<T, string> _describe;
    private readonly TimeProvider _time;
    private readonly Lock _checking = new();
    private long _nextCheckTicks;
    private ILogger _logger = NullLogger.Instance;
    private volatile Snapshot _current;
    private byte[]? _refused;

    private MountedFile(string setting, string path, string what, Func<byte[], List<string>, T?> read, Func<T, string> describe, TimeProvider time, Snapshot current)
    {
        _setting = setting;
        _path = path;
        _what = what;
        _read = read;
        _describe = describe;
        _time = time;
        _current = current;
        _nextCheckTicks = time.GetUtcNow().UtcTicks + Interval.Ticks;
    }

    /// <summary>
    /// The file of <paramref name="setting"/> read by <paramref name="read"/> (which adds a line to the problems for what it
    /// refuses and returns null), or null with the problems. <paramref name="what"/> ("certificate", "CAs") and
    /// <paramref name="describe"/> word the log lines.
    /// </summary>
    public static MountedFile<T>? TryLoad(
        string setting, string path, string what, Func<byte[], List<string>, T?> read, Func<T, string> describe, TimeProvider time, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(describe);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(problems);
        return TlsFiles.ReadFile(setting, path, problems) is { } file && read(file, problems) is { } value
            ? new MountedFile<T>(setting, path, what, read, describe, time, new Snapshot(file, value))
            : null;
    }

    /// <summary>The current value; looks at the file first when a check is due.</summary>
    public T Current
    {
        get
        {
            RefreshIfDue();
            return _current.Value;
        }
    }

    /// <summary>The current value without looking at the file (to dispose it).</summary>
    public T Loaded => _current.Value;

    /// <summary>Where a change is reported. The file is read before the application's logging exists (so that a bad file stops start-up in one line).</summary>
    public void LogTo(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
    }

    private void RefreshIfDue()
    {
        long now = _time.GetUtcNow().UtcTicks;
        if (now < Interlocked.Read(ref _nextCheckTicks) || !_checking.TryEnter())
        {
            return;
        }
        try
        {
            if (now >= _nextCheckTicks)
            {
                Interlocked.Exchange(ref _nextCheckTicks, now + Interval.Ticks);
                Refresh();
            }
        }
        finally
        {
            _checking.Exit();
        }
    }

    private void Refresh()
    {
        var problems = new List<string>();
        byte[]? file = TlsFiles.ReadFile(_setting, _path, problems);
        if (file is not null && file.AsSpan().SequenceEqual(_current.File))
        {
            _refused = null;
            return;
        }
        if (file is not null && _read(file, problems) is { } changed)
        {
            _current = new Snapshot(file, changed);
            _refused = null;
            _logger.LogInformation("Loaded the changed {What} of {Setting} ({Description}); new connections use it", _what, _setting, _describe(changed));
            return;
        }
        // Once per state of the file: a half-written renewal is one line, not one every few seconds until it is complete.
        byte[] refused = file ?? [];
        if (_refused is null || !refused.AsSpan().SequenceEqual(_refused))
        {
            _refused = refused;
            _logger.LogWarning(
                "Kept the current {What} of {Setting} ({Description}): the files changed but do not load ({Problems}); trying again every {Seconds} s",
                _what, _setting, _describe(_current.Value), string.Join("; ", problems), Interval.TotalSeconds);
        }
    }

    /// <summary>What one read produced: the file's bytes (to notice a change) and the value.</summary>
    private sealed record Snapshot(byte[] File, T Value);
}
