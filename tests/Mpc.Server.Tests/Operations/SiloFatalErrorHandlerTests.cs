using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mpc.Server;
using Orleans.Runtime;

namespace Mpc.Server.Tests.Operations;

/// <summary>
/// A silo told it was declared dead ends with one line and exit code 75, after a bounded log flush, instead of Orleans'
/// FailFast (a stack trace and 134). The spawned-process case is DeclaredDeadSiloTests in Mpc.Server.Host.Tests.
/// </summary>
public sealed class SiloFatalErrorHandlerTests : IDisposable
{
    private readonly TempDirectory _root = new("mpc-fatal-");

    [Fact]
    public async Task The_silo_reports_fatal_errors_to_the_servers_handler_not_to_orleans_failfast()
    {
        var options = new MpcServerOptions { DataDirectory = _root.File("data"), Urls = "http://127.0.0.1:0", Quiet = true };

        await using WebApplication app = MpcServerHost.Build(options);

        Assert.IsType<SiloFatalErrorHandler>(app.Services.GetRequiredService<IFatalErrorHandler>());
    }

    [Fact]
    public void Declared_dead_is_one_line_on_stderr_after_the_logs_are_flushed_then_exit_code_75()
    {
        var events = new List<string>();
        var error = new RecordingWriter(() => events.Add("line"));
        var logger = new RecordingProvider(() => events.Add("flushed"));
        var handler = new SiloFatalErrorHandler([logger], error, code => events.Add($"exit {code}"));

        handler.OnFatalException(sender: this, context: "I have been told I am dead, so this silo will stop! Reason: 127.0.0.1:11111@1\nentry", exception: null);

        string line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: the cluster declared this silo dead; it stops at once", line, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", line, StringComparison.Ordinal);
        // The line comes after the flushed log, so it is the last thing the silo prints (a tail of its output shows it).
        Assert.Equal(["flushed", "line", "exit 75"], events);
    }

    [Fact]
    public void A_failed_membership_service_names_the_exception_type_and_method_never_its_message()
    {
        var error = new StringWriter();
        int? exit = null;
        var handler = new SiloFatalErrorHandler([], error, code => exit = code);

        handler.OnFatalException(this, "UpdateIAmAlive", new InvalidOperationException("redis password=hunter2\n   at Somewhere()"));

        string line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: this silo's cluster membership failed (InvalidOperationException in UpdateIAmAlive); it stops at once", line, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", line, StringComparison.Ordinal);
        Assert.Equal(SiloFatalErrorHandler.ExitCode, exit);
        Assert.True(handler.IsUnexpected(new OperationCanceledException()));
    }

    [Fact]
    public void A_logger_that_hangs_on_flush_does_not_keep_the_dead_silo_alive_past_the_bound()
    {
        using var release = new ManualResetEventSlim();
        int? exit = null;
        var handler = new SiloFatalErrorHandler([new RecordingProvider(() => release.Wait())], new StringWriter(), code => exit = code);
        var clock = Stopwatch.StartNew();

        handler.OnFatalException();

        release.Set();
        Assert.Equal(75, exit);
        Assert.InRange(clock.Elapsed, SiloFatalErrorHandler.FlushBound - TimeSpan.FromMilliseconds(100), SiloFatalErrorHandler.FlushBound + TimeSpan.FromSeconds(2));
    }

    public void Dispose() => _root.Dispose();

    private sealed class RecordingWriter(Action onLine) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            onLine();
        }
    }

    private sealed class RecordingProvider(Action onDispose) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose() => onDispose();
    }
}
