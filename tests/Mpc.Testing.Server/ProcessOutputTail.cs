namespace Mpc.Testing;

/// <summary>
/// The last lines child processes wrote, each with the time it arrived and, where given, which process wrote it: a
/// failed start-up or a failed test says what the server was doing.
/// </summary>
public sealed class ProcessOutputTail(int kept)
{
    private readonly Queue<string> _lines = new();
    private int _dropped;

    public void Add(string? line, string? source = null)
    {
        if (line is null)
        {
            return;
        }
        lock (_lines)
        {
            _lines.Enqueue(source is null ? $"{DateTime.UtcNow:HH:mm:ss.fff} {line}" : $"{DateTime.UtcNow:HH:mm:ss.fff} {source} {line}");
            if (_lines.Count > kept)
            {
                _lines.Dequeue();
                _dropped++;
            }
        }
    }

    public void Clear()
    {
        lock (_lines)
        {
            _lines.Clear();
            _dropped = 0;
        }
    }

    public override string ToString()
    {
        lock (_lines)
        {
            string lines = string.Join('\n', _lines);
            return _dropped > 0 ? $"(the first {_dropped} lines left out)\n{lines}" : lines;
        }
    }
}
