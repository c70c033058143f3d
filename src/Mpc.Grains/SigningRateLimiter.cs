using Mpc.Grains.Abstractions;

namespace Mpc.Grains;

/// <summary>
/// The per-key signing limit of one key-grain activation: at most <see cref="SignerOptions.MaxSignaturesPerKey"/>
/// signatures released in any sliding <see cref="SignerOptions.SignatureRateWindow"/>. Memory only, by design: a
/// restart or a move of the grain to another silo starts every window afresh (at most one extra window's worth).
/// </summary>
internal sealed class SigningRateLimiter(SignerOptions options, TimeProvider time)
{
    private readonly Dictionary<string, Queue<DateTimeOffset>> _released = [];

    /// <summary>
    /// Throws ResourceExhausted, naming when to retry, if releasing one more signature (on top of
    /// <paramref name="inFlight"/> whose nonce is already open) would exceed the limit.
    /// </summary>
    public void Check(string keyId, int inFlight)
    {
        int limit = options.MaxSignaturesPerKey;
        if (limit <= 0)
        {
            return;
        }
        DateTimeOffset now = time.GetUtcNow();
        Queue<DateTimeOffset> window = Window(keyId, now);
        if (window.Count + inFlight < limit)
        {
            return;
        }
        DateTimeOffset freesAt = window.Count > 0 ? window.Peek() + options.SignatureRateWindow : now + options.SignatureRateWindow;
        int seconds = Math.Max(1, (int)Math.Ceiling((freesAt - now).TotalSeconds));
        throw new SignerException(SignerErrorKind.ResourceExhausted,
            $"Key '{keyId}' reached its limit of {limit} signatures per {Describe(options.SignatureRateWindow)}; retry in {seconds} s.")
        {
            Reason = ErrorReasons.RateLimited,
            RetryAfter = TimeSpan.FromSeconds(seconds),
        };
    }

    public void Released(string keyId)
    {
        if (options.MaxSignaturesPerKey > 0)
        {
            DateTimeOffset now = time.GetUtcNow();
            Window(keyId, now).Enqueue(now);
        }
    }

    private Queue<DateTimeOffset> Window(string keyId, DateTimeOffset now)
    {
        if (!_released.TryGetValue(keyId, out Queue<DateTimeOffset>? window))
        {
            _released[keyId] = window = new Queue<DateTimeOffset>();
        }
        while (window.Count > 0 && window.Peek() + options.SignatureRateWindow <= now)
        {
            window.Dequeue();
        }
        return window;
    }

    private static string Describe(TimeSpan window) =>
        window == TimeSpan.FromMinutes(1) ? "minute" : FormattableString.Invariant($"{window.TotalSeconds:0.###} s");
}
