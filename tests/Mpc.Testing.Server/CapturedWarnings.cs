using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Mpc.Testing;

/// <summary>
/// Every warning and error a server (or client) logs, formatted: add <see cref="Provider"/> to the server's services
/// (<c>silo.Services.AddSingleton(warnings.Provider())</c>) before the server is built.
/// </summary>
public sealed class CapturedWarnings
{
    private readonly ConcurrentQueue<string> _messages = new();

    /// <summary>The messages containing <paramref name="text"/>, in the order they were logged.</summary>
    public IEnumerable<string> Containing(string text) => _messages.Where(m => m.Contains(text, StringComparison.Ordinal));

    /// <summary>A logger provider that adds what it is given to these messages.</summary>
    public ILoggerProvider Provider() => new CapturingProvider(_messages);

    private sealed class CapturingProvider(ConcurrentQueue<string> messages) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                messages.Enqueue(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }
}
