using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Mpc.Server;

/// <summary>
/// What the silo does when Orleans reports a fatal error: the membership oracle found this silo declared dead (it missed
/// its probes, or a newer silo took its address), or the membership service itself failed. Either way the silo can no
/// longer be trusted to be the only activation of its grains: another silo may already run a user's grain and its key's
/// freeze state. So it stops at once, as Orleans' own handler does, but with one "error: ..." line on stderr and
/// <see cref="ExitCode"/> instead of a FailFast stack trace and exit code 134.
/// </summary>
public sealed class SiloFatalErrorHandler : IFatalErrorHandler
{
    /// <summary>
    /// How `mpc-server` ends then (sysexits' EX_TEMPFAIL): the condition is of the cluster, not of this process, and a
    /// restart joins the cluster again as a new silo. docs/operations.md lists it with the server's other exit codes.
    /// </summary>
    public const int ExitCode = 75;

    /// <summary>
    /// The most the log flush may take: Orleans' own handler waits two seconds for loggers, and every moment the
    /// process lives on it may serve a grain that is active elsewhere too.
    /// </summary>
    public static readonly TimeSpan FlushBound = TimeSpan.FromSeconds(2);

    private readonly IEnumerable<ILoggerProvider> _loggers;
    private readonly TextWriter _error;
    private readonly Action<int> _exit;

    /// <summary>
    /// <paramref name="exit"/> must not return to the caller in production (<see cref="Environment.Exit"/>); tests pass
    /// one that records the code.
    /// </summary>
    public SiloFatalErrorHandler(IEnumerable<ILoggerProvider> loggers, TextWriter error, Action<int> exit)
    {
        _loggers = loggers;
        _error = error;
        _exit = exit;
    }

    public bool IsUnexpected(Exception exception) => true;

    public void OnFatalException(object? sender = null, string? context = null, Exception? exception = null)
    {
        // Orleans' text (the silo's address, the membership entry) is in its own log line, flushed first, so that this
        // line is the last the silo prints: an operator reading the tail of its output sees what happened and what to
        // do. It never carries an exception's message.
        FlushLogs();
        string what = exception is null
            ? "the cluster declared this silo dead"
            : $"this silo's cluster membership failed ({exception.GetType().Name} in {Sanitise(context)})";
        _error.WriteLine(
            $"error: {what}; it stops at once, because its users' grains may already be active on another silo. " +
            "Start it again: it joins the cluster as a new silo");
        _error.Flush();
        _exit(ExitCode);
    }

    /// <summary>
    /// Disposing a logger provider writes out what it has queued (the console logger writes on a thread of its own);
    /// bounded, because a provider that hangs must not keep a dead silo alive.
    /// </summary>
    private void FlushLogs()
    {
        var flush = Task.Run(() =>
        {
            foreach (ILoggerProvider logger in _loggers)
            {
                logger.Dispose();
            }
        });
        try
        {
            flush.Wait(FlushBound);
        }
        catch (AggregateException)
        {
            // A provider that fails to flush loses its lines; the silo stops all the same.
        }
    }

    /// <summary>Orleans passes a method name as the context of a failure; anything else is cut to one short line.</summary>
    private static string Sanitise(string? context)
    {
        string text = (context ?? "Orleans").ReplaceLineEndings(" ");
        return text.Length <= 64 ? text : text[..64];
    }
}
