using Mpc.Crypto.Curves;
using Microsoft.Extensions.Logging;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Telemetry;
using Mpc.Protocol.Audit;

namespace Mpc.Grains.Audit;

/// <summary>
/// Stamps events with the time and a unique id and hands them to the key's audit grain in the background. A failed
/// hand-over (the audit grain's silo died, or the call timed out) is retried with back-off until the cluster has
/// moved the grain; the grain ignores an event id it already has, so a retry never chains an event twice.
/// </summary>
public sealed class KeyAuditTrail(IGrainFactory grains, TimeProvider time, SignerMetrics metrics, ILogger<KeyAuditTrail> logger) : IKeyAuditTrail
{
    /// <summary>Enough to outlast failure detection (about 10 s) plus a grain-call timeout or two.</summary>
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(15)];

    public void Record(string keyId, AuditEventKind kind, string deviceId, Digest? digest, string outcome, string detail = "")
    {
        try
        {
            string shortDetail = detail ?? "";
            if (shortDetail.Length > AuditChain.MaxDetailLength)
            {
                shortDetail = shortDetail[..AuditChain.MaxDetailLength];
            }
            var auditEvent = new AuditEvent(Guid.NewGuid(), kind, time.GetUtcNow().ToUnixTimeMilliseconds(), deviceId ?? "", digest, outcome ?? "", shortDetail);
            // Not awaited: the caller is on the signing path. The first send happens here; retries continue on the
            // thread pool (ConfigureAwait(false)), never on the caller's grain scheduler.
            _ = HandOver(keyId, auditEvent);
        }
        catch (Exception e)
        {
            // The caller is on the signing path: an audit problem is counted and logged, never thrown.
            Lost(keyId, e);
        }
    }

    private async Task HandOver(string keyId, AuditEvent auditEvent)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await grains.GetGrain<IKeyAuditGrain>(keyId).Append(auditEvent).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (attempt < RetryDelays.Length)
            {
                metrics.AuditFailed("handoff_retry");
                logger.LogDebug(e, "Handing an audit event of key {KeyId} over failed; retrying", keyId);
                await Task.Delay(RetryDelays[attempt], time).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Lost(keyId, e);
                return;
            }
        }
    }

    private void Lost(string keyId, Exception? e)
    {
        metrics.AuditFailed("handoff");
        logger.LogError(e, "An audit event for key {KeyId} could not be handed to its audit grain; it is lost", keyId);
    }
}
