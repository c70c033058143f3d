using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Mpc.Testing;

/// <summary>
/// Appends a test server's warnings and errors (with exceptions) to a file named by <c>MPC_TEST_SERVER_LOG</c>, so that
/// a test that fails with an <c>Internal</c> status can be traced to the server's own account of it. CI sets the
/// variable and prints the file's errors after a failed run.
/// </summary>
internal sealed class ServerLogFile(string path) : ILoggerProvider
{
    public const string EnvironmentVariable = "MPC_TEST_SERVER_LOG";

    private static readonly object FileLock = new();
    private readonly ConcurrentDictionary<string, Logger> _loggers = new();

    /// <summary>The provider for the configured file, or null when the variable is not set.</summary>
    public static ServerLogFile? FromEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } path ? new ServerLogFile(Path.GetFullPath(path)) : null;

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, c => new Logger(this, c));

    public void Dispose()
    {
    }

    private void Append(string line)
    {
        // A logger runs inside the server's code paths: it must never throw (another test process may hold the file).
        try
        {
            lock (FileLock)
            {
                File.AppendAllText(path, line);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class Logger(ServerLogFile file, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            file.Append($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{Environment.NewLine}"
                + (exception is null ? "" : exception + Environment.NewLine));
        }
    }
}
