using System.Diagnostics.Metrics;
using Mpc.Grains.Telemetry;

namespace Mpc.Testing;

/// <summary>
/// Counts one of the server's counters (mpc.sign.final_checks: one per new c3 decrypted; mpc.sign.final_check_reruns:
/// one per re-run of an interrupted check) of this test's server only: other tests' servers in the
/// same process have their own meter factories.
/// </summary>
/// <remarks>
/// The listener sees every server in the test process, and its callback runs inside whichever grain records the
/// measurement: it must never throw. It once did (asking a stopped server for its services), and the exception surfaced
/// in another test's signature, between its final-check marker and the decryption: an <c>Internal</c> reply and a key
/// refused as frozen for the rest of that activation.
/// </remarks>
public sealed class FinalCheckCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _count;

    public FinalCheckCounter(ServerFixture server, string instrumentName, string? outcome = null)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SignerMetrics.MeterName && instrument.Name == instrumentName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            // False while this test's server is stopped (a restart): nothing of it is measured then.
            if (server.Measures(instrument) && (outcome is null || HasOutcome(tags, outcome)))
            {
                Interlocked.Add(ref _count, value);
            }
        });
        _listener.Start();
    }

    public long Count => Interlocked.Read(ref _count);

    private static bool HasOutcome(ReadOnlySpan<KeyValuePair<string, object?>> tags, string outcome)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "outcome" && Equals(tag.Value, outcome))
            {
                return true;
            }
        }
        return false;
    }

    public void Dispose() => _listener.Dispose();
}
