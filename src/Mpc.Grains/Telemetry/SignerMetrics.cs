using System.Diagnostics;
using System.Diagnostics.Metrics;
using Mpc.Grains.Abstractions;

namespace Mpc.Grains.Telemetry;

/// <summary>
/// The service's own instruments, on the meter "Mpc.Signer" (docs/operations.md lists them). Made through
/// <see cref="IMeterFactory"/> so each host has its own, and tests can listen without global state.
/// Tags carry key-independent facts only (curve, round, reason): never key ids, users or values.
/// </summary>
public sealed class SignerMetrics
{
    public const string MeterName = "Mpc.Signer";

    private readonly Histogram<double> _duration;
    private readonly Counter<long> _signatures;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _frozen;
    private readonly Counter<long> _finalChecks;
    private readonly Counter<long> _finalCheckReruns;
    private readonly UpDownCounter<long> _sessions;
    private readonly UpDownCounter<long> _grains;
    private readonly Counter<long> _auditFailures;

    public SignerMetrics(IMeterFactory meterFactory)
    {
        Meter meter = meterFactory.Create(MeterName);
        _duration = meter.CreateHistogram<double>("mpc.sign.duration", "ms",
            "Server time per signing round (round=commit|nonce|finish) and from nonce to signature (round=end_to_end)");
        _signatures = meter.CreateCounter<long>("mpc.signatures", description: "Signatures released, by curve");
        _failures = meter.CreateCounter<long>("mpc.sign.failures", description: "Refused or failed calls, by reason");
        _frozen = meter.CreateCounter<long>("mpc.keys.frozen", description: "Keys frozen after a failed final signature check");
        _finalChecks = meter.CreateCounter<long>("mpc.sign.final_checks",
            description: "c3 decryptions started (each after its final-check marker was stored)");
        _finalCheckReruns = meter.CreateCounter<long>("mpc.sign.final_check_reruns",
            description: "Interrupted final checks re-run from their stored marker (the same c3 decrypted again), by outcome=passed|failed|not_run");
        _sessions = meter.CreateUpDownCounter<long>("mpc.sessions.active", description: "Open signing sessions in grain memory");
        _grains = meter.CreateUpDownCounter<long>("mpc.grains.active", description: "Active user-key grain activations");
        _auditFailures = meter.CreateCounter<long>("mpc.audit.failures",
            description: "Audit persistence failures (reason=write|conflict|handoff|dropped|lost_on_deactivation); signing goes on regardless");
    }

    public void Round(string round, TimeSpan elapsed) => _duration.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("round", round));

    public void Signed(string curve, TimeSpan fromNonce)
    {
        _signatures.Add(1, new KeyValuePair<string, object?>("curve", curve));
        _duration.Record(fromNonce.TotalMilliseconds, new KeyValuePair<string, object?>("round", "end_to_end"));
    }

    public void Failed(SignerErrorKind kind) => _failures.Add(1, new KeyValuePair<string, object?>("reason", Reason(kind)));

    public void Frozen() => _frozen.Add(1);

    public void FinalCheckStarted() => _finalChecks.Add(1);

    public void FinalCheckRerun(string outcome) => _finalCheckReruns.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void SessionsChanged(long delta)
    {
        if (delta != 0)
        {
            _sessions.Add(delta);
        }
    }

    public void AuditFailed(string reason, long count = 1) => _auditFailures.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void GrainActivated() => _grains.Add(1);

    public void GrainDeactivated() => _grains.Add(-1);

    /// <summary>The tag of a grain's refusal. No grain refuses with PermissionDenied: key ownership is checked before the grain (SignerService).</summary>
    public static string Reason(SignerErrorKind kind) => kind switch
    {
        SignerErrorKind.InvalidArgument => "invalid_argument",
        SignerErrorKind.NotFound => "not_found",
        SignerErrorKind.FailedPrecondition => "failed_precondition",
        SignerErrorKind.ResourceExhausted => "resource_exhausted",
        _ => "internal",
    };

    /// <summary>Starts timing a round; dispose the result when the round ends.</summary>
    public static long Start() => Stopwatch.GetTimestamp();

    public static TimeSpan Since(long start) => Stopwatch.GetElapsedTime(start);
}
