using Mpc.Grains.Abstractions;

namespace Mpc.Grains;

/// <summary>
/// One of a grain activation's rate limits: at most <paramref name="limit"/> <paramref name="counted"/> per subject (a
/// key, or the user) in any sliding <paramref name="window"/>; 0 is no limit. Memory only, by design: a restart or a
/// move of the grain to another silo starts every window afresh (at most one extra window's worth).
/// </summary>
internal sealed class SlidingWindowLimit(int limit, TimeSpan window, string counted, TimeProvider time)
{
    private readonly Dictionary<string, Queue<DateTimeOffset>> _recorded = [];

    /// <summary>
    /// The per-key signing limit: a signature counts when its nonce round runs, whatever becomes of it (released,
    /// refused at SignFinish, abandoned): each used a nonce and the server's work, and each refused one is audited.
    /// </summary>
    public static SlidingWindowLimit Signatures(SignerOptions options, TimeProvider time) =>
        new(options.MaxSignaturesPerKey, options.SignatureRateWindow, "signatures", time);

    /// <summary>The per-user limit on rounds that make a new Paillier key and its proofs: a round counts when it runs.</summary>
    public static SlidingWindowLimit PaillierKeys(SignerOptions options, TimeProvider time) =>
        new(options.MaxPaillierKeysPerUser, options.PaillierKeyRateWindow,
            "new Paillier keys (key generations, refreshes, enrolments, backups, restores and imports)", time);

    /// <summary>The per-user limit on certificate chains set: a chain counts when its write starts, stored or not.</summary>
    public static SlidingWindowLimit CertificateChains(SignerOptions options, TimeProvider time) =>
        new(options.MaxCertificateChainsPerUser, options.CertificateChainRateWindow, "certificate chains set", time);

    /// <summary>Throws ResourceExhausted, naming <paramref name="holder"/> and when to retry, if one more for <paramref name="subject"/> would exceed the limit.</summary>
    public void Check(string subject, string holder)
    {
        if (WaitFor(subject) is { } seconds)
        {
            throw new SignerException(SignerErrorKind.ResourceExhausted,
                $"{holder} reached its limit of {limit} {counted} per {Describe(window)}; retry in {seconds} s.")
            {
                Reason = ErrorReasons.RateLimited,
                RetryAfter = TimeSpan.FromSeconds(seconds),
            };
        }
    }

    /// <summary>Whether one more for <paramref name="subject"/> is within the limit now (<see cref="Check"/> would pass).</summary>
    public bool HasRoom(string subject) => WaitFor(subject) is null;

    private void Record(string subject)
    {
        if (limit > 0)
        {
            DateTimeOffset now = time.GetUtcNow();
            Recent(subject, now).Enqueue(now);
        }
    }

    /// <summary><see cref="Check"/>, then <see cref="Record"/>: for work charged when it starts, whatever becomes of it.</summary>
    public void Take(string subject, string holder)
    {
        Check(subject, holder);
        Record(subject);
    }

    /// <summary>Whole seconds until one more for <paramref name="subject"/> fits (at least 1); null when it fits now.</summary>
    private int? WaitFor(string subject)
    {
        if (limit <= 0)
        {
            return null;
        }
        DateTimeOffset now = time.GetUtcNow();
        Queue<DateTimeOffset> recent = Recent(subject, now);
        if (recent.Count < limit)
        {
            return null;
        }
        DateTimeOffset freesAt = recent.Peek() + window;
        return Math.Max(1, (int)Math.Ceiling((freesAt - now).TotalSeconds));
    }

    private Queue<DateTimeOffset> Recent(string subject, DateTimeOffset now)
    {
        if (!_recorded.TryGetValue(subject, out Queue<DateTimeOffset>? recent))
        {
            _recorded[subject] = recent = new Queue<DateTimeOffset>();
        }
        while (recent.Count > 0 && recent.Peek() + window <= now)
        {
            recent.Dequeue();
        }
        return recent;
    }

    private static string Describe(TimeSpan window) =>
        window == TimeSpan.FromMinutes(1) ? "minute"
        : window.Ticks % TimeSpan.TicksPerMinute == 0 ? FormattableString.Invariant($"{window.TotalMinutes:0} minutes")
        : FormattableString.Invariant($"{window.TotalSeconds:0.###} s");
}
