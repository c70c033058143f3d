namespace Mpc.Testing;

/// <summary>Races: several bodies released at one moment, for code that must stay right when callers collide.</summary>
public static class Simultaneously
{
    /// <summary>
    /// Runs <paramref name="body"/> with 0 to <paramref name="count"/> − 1, each on a thread of its own (so all of
    /// them reach the starting line even on a small thread pool) and all released together; a body's exception
    /// fails the returned task rather than the test host.
    /// </summary>
    public static async Task RunAsync(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var start = new Barrier(count);
        Task[] runners = Enumerable.Range(0, count).Select(i => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            body(i);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        await Task.WhenAll(runners).ConfigureAwait(false);
    }
}
