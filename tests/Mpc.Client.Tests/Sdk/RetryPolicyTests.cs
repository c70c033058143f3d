using System.Collections.Concurrent;
using Grpc.Core;
using Mpc.Client;

namespace Mpc.Client.Tests.Sdk;

/// <summary>
/// <see cref="RetryPolicy"/>, the one rule by which the SDK sends a key generation's completion and confirmation again:
/// the calls it makes, the waits between them (read from a clock that records them instead of waiting), and the
/// failure that reaches the caller. The key generation tests (<see cref="KeyGenWhileProfileOpensTests"/>) cover the
/// same rule against a real server.
/// </summary>
public sealed class RetryPolicyTests
{
    /// <summary>A clock whose timers fire at once: the waits asked of it are recorded, never waited.</summary>
    private sealed class RecordedWaits : TimeProvider
    {
        private readonly ConcurrentQueue<TimeSpan> _waits = new();

        public IReadOnlyList<TimeSpan> Waits => [.. _waits];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _waits.Enqueue(dueTime);
            ThreadPool.QueueUserWorkItem(_ => callback(state));
            return new FiredTimer();
        }

        private sealed class FiredTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    /// <summary>A call whose nth attempt fails with what <paramref name="failureOf"/> gives for n, and is answered when it gives null.</summary>
    private sealed class ScriptedCall(Func<int, Exception?> failureOf)
    {
        public int Calls { get; private set; }

        public Task<string> Invoke(CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Calls++;
            return failureOf(Calls) is { } failure ? Task.FromException<string>(failure) : Task.FromResult("answered");
        }
    }

    private static MpcSignerException Refusal(StatusCode status, TimeSpan? retryAfter = null) =>
        new(MpcErrorReason.Unknown, status, $"{status}: refused (test)", retryAfter);

    /// <summary>Runs <paramref name="policy"/> on <paramref name="call"/> with recorded waits; the retries it announced come back too.</summary>
    private static async Task<(string? Result, Exception? Failure, IReadOnlyList<TimeSpan> Waits, IReadOnlyList<TimeSpan> Announced)> Run(
        RetryPolicy policy, ScriptedCall call)
    {
        var time = new RecordedWaits();
        List<TimeSpan> announced = [];
        try
        {
            string result = await (policy with { Time = time }).RunAsync(call.Invoke, (_, wait) => announced.Add(wait), CancellationToken.None);
            return (result, null, time.Waits, announced);
        }
        catch (Exception e)
        {
            return (null, e, time.Waits, announced);
        }
    }

    [Fact]
    public async Task A_completion_refused_with_the_servers_250_ms_is_sent_11_more_times_about_2_75_s_and_then_the_last_refusal_is_thrown()
    {
        MpcSignerException refusal = Refusal(StatusCode.ResourceExhausted, TimeSpan.FromMilliseconds(250));
        var call = new ScriptedCall(_ => refusal);

        var (_, failure, waits, announced) = await Run(RetryPolicy.KeyGenCompletion, call);

        Assert.Same(refusal, failure);
        Assert.Equal(12, call.Calls);
        Assert.Equal(Enumerable.Repeat(TimeSpan.FromMilliseconds(250), 11), waits);
        Assert.Equal(TimeSpan.FromSeconds(2.75), waits.Aggregate(TimeSpan.Zero, (sum, wait) => sum + wait));
        Assert.Equal(waits, announced);
    }

    [Fact]
    public async Task A_completion_is_answered_once_room_is_made_and_waits_as_long_as_each_refusal_said()
    {
        var call = new ScriptedCall(n => n switch
        {
            1 => Refusal(StatusCode.ResourceExhausted, TimeSpan.FromMilliseconds(250)),
            2 => Refusal(StatusCode.ResourceExhausted, TimeSpan.FromSeconds(1)),
            _ => null,
        });

        var (result, failure, waits, _) = await Run(RetryPolicy.KeyGenCompletion, call);

        Assert.Null(failure);
        Assert.Equal("answered", result);
        Assert.Equal(3, call.Calls);
        Assert.Equal([TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1)], waits);
    }

    public static TheoryData<string, MpcSignerException> CompletionFailuresNotSentAgain => new()
    {
        // A rate limit's seconds are the caller's to wait, not a key generation's.
        { "a wait over 1 s", Refusal(StatusCode.ResourceExhausted, TimeSpan.FromSeconds(2)) },
        // A server that predates the cap's RetryInfo: its refusal's reason is the generic RESOURCE_EXHAUSTED of every cap.
        { "no RetryInfo", Refusal(StatusCode.ResourceExhausted) },
        // Malformed: Task.Delay would throw for this one (and wait for ever for -1 ms, which a test cannot show without hanging).
        { "a negative wait", Refusal(StatusCode.ResourceExhausted, TimeSpan.FromMilliseconds(-2)) },
        { "a RetryInfo on another status", Refusal(StatusCode.Unavailable, TimeSpan.FromMilliseconds(250)) },
        // The server took the key generation's session with the request: a second one would only be NotFound.
        { "a lost reply", Refusal(StatusCode.Unavailable) },
        { "a timeout", Refusal(StatusCode.DeadlineExceeded) },
    };

    [Theory]
    [MemberData(nameof(CompletionFailuresNotSentAgain))]
    public async Task A_completion_is_not_sent_again_after(string what, MpcSignerException refusal)
    {
        var call = new ScriptedCall(_ => refusal);

        var (_, failure, waits, announced) = await Run(RetryPolicy.KeyGenCompletion, call);

        Assert.True(ReferenceEquals(refusal, failure), $"{what}: {failure}");
        Assert.Equal(1, call.Calls);
        Assert.Empty(waits);
        Assert.Empty(announced);
    }

    public static TheoryData<string, MpcSignerException> FailuresThatProveNothing => new()
    {
        { "a lost request or reply", Refusal(StatusCode.Unavailable) },
        { "a timeout", Refusal(StatusCode.DeadlineExceeded) },
        { "a storage error that may pass", Refusal(StatusCode.Internal) },
        { "a failure with no status", new MpcSignerException(MpcErrorReason.Unknown, "no answer (test)") },
    };

    [Theory]
    [MemberData(nameof(FailuresThatProveNothing))]
    public async Task A_confirmation_is_asked_three_times_after_0_2_s_and_1_s_when_a_failure_proves_nothing(string what, MpcSignerException lost)
    {
        var call = new ScriptedCall(_ => lost);

        var (_, failure, waits, announced) = await Run(RetryPolicy.KeyGenConfirmation, call);

        Assert.True(ReferenceEquals(lost, failure), $"{what}: {failure}");
        Assert.Equal(3, call.Calls);
        Assert.Equal([TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)], waits);
        Assert.Equal(waits, announced);
    }

    public static TheoryData<StatusCode> RefusalsThatProveNothingStored =>
        [StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.FailedPrecondition, StatusCode.PermissionDenied, StatusCode.Unauthenticated, StatusCode.ResourceExhausted];

    [Theory]
    [MemberData(nameof(RefusalsThatProveNothingStored))]
    public async Task A_confirmation_refused_in_a_way_that_proves_nothing_was_stored_is_not_asked_again(StatusCode status)
    {
        // With a RetryInfo too: the confirmation policy honours none.
        MpcSignerException refusal = Refusal(status, TimeSpan.FromMilliseconds(250));
        var call = new ScriptedCall(_ => refusal);

        var (_, failure, waits, _) = await Run(RetryPolicy.KeyGenConfirmation, call);

        Assert.Same(refusal, failure);
        Assert.Equal(1, call.Calls);
        Assert.Empty(waits);
    }

    [Fact]
    public async Task A_confirmation_whose_first_reply_was_lost_returns_the_second_answer()
    {
        var call = new ScriptedCall(n => n == 1 ? Refusal(StatusCode.Unavailable) : null);

        var (result, failure, waits, _) = await Run(RetryPolicy.KeyGenConfirmation, call);

        Assert.Null(failure);
        Assert.Equal("answered", result);
        Assert.Equal(2, call.Calls);
        Assert.Equal([TimeSpan.FromMilliseconds(200)], waits);
    }

    [Fact]
    public async Task A_failure_that_is_not_the_sdks_exception_is_never_sent_again()
    {
        var cancelled = new OperationCanceledException("the caller cancelled (test)");
        var call = new ScriptedCall(_ => cancelled);

        var (_, failure, waits, _) = await Run(RetryPolicy.KeyGenConfirmation, call);

        Assert.Same(cancelled, failure);
        Assert.Equal(1, call.Calls);
        Assert.Empty(waits);
    }

    [Fact]
    public async Task A_cancellation_during_the_wait_ends_the_retries()
    {
        using var cancellation = new CancellationTokenSource();
        var call = new ScriptedCall(_ => Refusal(StatusCode.Unavailable));

        // The real clock: cancelled while waiting its 0.2 s, so nothing is sent again.
        Task<string> running = RetryPolicy.KeyGenConfirmation.RunAsync(call.Invoke, (_, _) => cancellation.Cancel(), cancellation.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.Equal(1, call.Calls);
    }
}
