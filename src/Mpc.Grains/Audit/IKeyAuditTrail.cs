using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;

namespace Mpc.Grains.Audit;

/// <summary>
/// Where grains report auditable events. <see cref="Record"/> never throws and never waits for storage: it hands
/// the event to the key's <see cref="IKeyAuditGrain"/> one-way. Call it after the fact it reports is durable
/// (a freeze: after the frozen status is stored).
/// </summary>
public interface IKeyAuditTrail
{
    /// <param name="keyId">The key the event concerns.</param>
    /// <param name="kind">What happened.</param>
    /// <param name="deviceId">The device that asked (<see cref="AuditDevices.Primary"/> until keys have several).</param>
    /// <param name="digest">The digest signed or refused; null when the event names none.</param>
    /// <param name="outcome">"ok", "refused", "frozen", "rate-limited" (<see cref="AuditOutcomes"/>) or another short word.</param>
    /// <param name="detail">A short public note (cut to 200 characters). Never a secret: the log is shown to auditors.</param>
    void Record(string keyId, AuditEventKind kind, string deviceId, Digest? digest, string outcome, string detail = "");
}
