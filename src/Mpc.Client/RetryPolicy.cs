using System.Collections.Immutable;
using Grpc.Core;

namespace Mpc.Client;

/// <summary>
/// The SDK's one rule for sending a call again after it failed: how many calls in all, which failures are sent again,
/// and how long to wait first. A failure is sent again only where a second copy of the request can do no harm:
/// <list type="bullet">
/// <item>a <see cref="StatusCode.ResourceExhausted"/> refusal that carries the server's <c>google.rpc.RetryInfo</c>
/// (<see cref="MpcSignerException.RetryAfter"/>), waited as the server asks when the policy accepts a wait that long:
/// the server sends it only for a refusal that comes before any work, so the same request may go again;</item>
/// <item>for an idempotent call only, a failure that does not prove the server did nothing (a lost request or reply,
/// Unavailable, DeadlineExceeded, Internal: <see cref="MpcOutcomeUnknownException.ProvesNothingStored"/> false), after
/// the policy's own pause.</item>
/// </list>
/// Anything else, and the failure of the last attempt, reaches the caller as it was thrown.
/// </summary>
internal sealed record RetryPolicy
{
    private RetryPolicy(int maxAttempts, TimeSpan? longestServerWait, ImmutableArray<TimeSpan> resendPauses)
    {
        MaxAttempts = maxAttempts;
        LongestServerWait = longestServerWait;
        ResendPauses = resendPauses;
    }

    /// <summary>
    /// CompleteKeyGen (message 3), refused while two other keys of the user await their confirmation: the server says
    /// 250 ms, and those keys are confirmed within moments, so 11 more sends (about 2.75 s) cover a device making several
    /// keys at once. Never sent again for a lost reply: the server has taken the key generation's session by then.
    /// </summary>
    public static RetryPolicy KeyGenCompletion { get; } = new(maxAttempts: 12, longestServerWait: TimeSpan.FromSeconds(1), resendPauses: []);

    /// <summary>
    /// ConfirmKeyGen, which the server answers again with the key it stored: asked up to three times (after 0.2 s and
    /// 1 s), so a device already holding a verified share does not give it up for a transient error.
    /// </summary>
    public static RetryPolicy KeyGenConfirmation { get; } = new(maxAttempts: 3, longestServerWait: null,
        resendPauses: [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)]);

    /// <summary>Calls in all, the first included.</summary>
    public int MaxAttempts { get; }

    /// <summary>The longest RetryAfter waited for (a rate limit's seconds are the caller's to wait); null: RetryAfter is not honoured.</summary>
    public TimeSpan? LongestServerWait { get; }

    /// <summary>The pause before each resend of an idempotent call (the last one repeats); empty: the call is not idempotent.</summary>
    public ImmutableArray<TimeSpan> ResendPauses { get; }

    /// <summary>The clock the waits run on (tests pass one that does not wait).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>How long to wait before attempt <paramref name="attempt"/> + 1, after attempt <paramref name="attempt"/> (from 1) failed with <paramref name="failure"/>; null: not again.</summary>
    public TimeSpan? WaitBeforeRetry(int attempt, MpcSignerException failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (attempt >= MaxAttempts)
        {
            return null;
        }
        // A negative delay is malformed (and -1 ms would make Task.Delay wait forever): the refusal is the answer.
        if (LongestServerWait is { } longest && failure is { Status: StatusCode.ResourceExhausted, RetryAfter: { } wait })
        {
            return wait >= TimeSpan.Zero && wait <= longest ? wait : null;
        }
        return !ResendPauses.IsEmpty && !MpcOutcomeUnknownException.ProvesNothingStored(failure)
            ? ResendPauses[Math.Min(attempt, ResendPauses.Length) - 1]
            : null;
    }

    /// <summary>
    /// Runs <paramref name="call"/> until it succeeds or <see cref="WaitBeforeRetry"/> says not again, telling
    /// <paramref name="beforeRetry"/> each failure that is sent again and the wait before it.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, Action<MpcSignerException, TimeSpan> beforeRetry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(beforeRetry);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (MpcSignerException e) when (WaitBeforeRetry(attempt, e) is { } wait)
            {
                beforeRetry(e, wait);
                await Task.Delay(wait, Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
