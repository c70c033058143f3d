using System.Diagnostics;

namespace Mpc.Testing;

/// <summary>
/// Waiting for what another process, thread or timer brings about: the condition is polled, so a test waits as long as
/// it takes and no longer, and fails with <c>failure</c>'s text once <c>timeout</c> has passed without it.
/// </summary>
public static class Poll
{
    public static Task UntilAsync(TimeSpan timeout, TimeSpan interval, Func<bool> condition, Func<string> failure) =>
        UntilAsync(timeout, interval, () => Task.FromResult(condition()), failure);

    public static async Task UntilAsync(TimeSpan timeout, TimeSpan interval, Func<Task<bool>> condition, Func<string> failure)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(failure);
        var clock = Stopwatch.StartNew();
        while (!await condition().ConfigureAwait(false))
        {
            if (clock.Elapsed >= timeout)
            {
                throw new TimeoutException(failure());
            }
            await Task.Delay(interval).ConfigureAwait(false);
        }
    }
}
