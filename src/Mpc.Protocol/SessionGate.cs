namespace Mpc.Protocol;

/// <summary>Runs one state transition; any refusal leaves the session failed, so it can never be retried with the same nonce.</summary>
internal sealed class SessionGate<TState> where TState : struct, Enum
{
    private readonly object _lock = new();
    private readonly TState _failed;

    public SessionGate(TState initial, TState failed)
    {
        State = initial;
        _failed = failed;
    }

    public TState State { get; private set; }

    /// <summary>Ends the session where it stands (waiting for a step in progress): every later step is refused.</summary>
    public void Close()
    {
        lock (_lock)
        {
            State = _failed;
        }
    }

    public T Step<T>(string message, TState expected, TState next, Func<T> transition)
    {
        lock (_lock)
        {
            if (!EqualityComparer<TState>.Default.Equals(State, expected))
            {
                throw ProtocolError.Unexpected(message, State.ToString());
            }
            // Leave the expected state before doing any work: a second delivery of the same message,
            // even one racing this one, is refused instead of answered with the same secrets.
            State = _failed;
            T result = transition();
            State = next;
            return result;
        }
    }
}
