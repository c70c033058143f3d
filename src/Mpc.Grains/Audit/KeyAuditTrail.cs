using Microsoft.Extensions.Logging;
using Mpc.Grains.Telemetry;
using Mpc.Protocol.Audit;

namespace Mpc.Grains.Audit;

/// <summary>Stamps events with the time and a unique id and sends them one-way to the key's audit grain.</summary>
public sealed class KeyAuditTrail(IGrainFactory grains, TimeProvider time, SignerMetrics metrics, ILogger<KeyAuditTrail> logger) : IKeyAuditTrail
{
    public void Record(string keyId, AuditEventKind kind, string deviceId, ReadOnlySpan<byte> digest, string outcome, string detail = "")
    {
        try
        {
            string shortDetail = detail ?? "";
            if (shortDetail.Length > AuditChain.MaxDetailLength)
            {
                shortDetail = shortDetail[..AuditChain.MaxDetailLength];
            }
            var auditEvent = new AuditEvent(Guid.NewGuid(), kind, time.GetUtcNow().ToUnixTimeMilliseconds(), deviceId ?? "", digest.ToArray(), outcome ?? "", shortDetail);
            Task sent = grains.GetGrain<IKeyAuditGrain>(keyId).Append(auditEvent);
            if (!sent.IsCompletedSuccessfully)
            {
                sent.ContinueWith(t => Lost(keyId, t.Exception), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }
        catch (Exception e)
        {
            // The caller is on the signing path: an audit problem is counted and logged, never thrown.
            Lost(keyId, e);
        }
    }

    private void Lost(string keyId, Exception? e)
    {
        metrics.AuditFailed("handoff");
        logger.LogError(e, "An audit event for key {KeyId} could not be handed to its audit grain; it is lost", keyId);
    }
}
