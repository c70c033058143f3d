using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Grains.Telemetry;

namespace Mpc.Server.Tests.Service;

/// <summary>The service's instruments record real signing work, with key-independent tags only.</summary>
[Collection("server")]
public sealed class MetricsTests(ServerFixture server)
{
    [Fact]
    public async Task Signing_records_rounds_signatures_and_refusals()
    {
        var measurements = new ConcurrentBag<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (server.Measures(instrument) && instrument.Meter.Name == SignerMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => measurements.Add((i.Name, v, Tags(tags))));
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => measurements.Add((i.Name, v, Tags(tags))));
        listener.Start();

        using MpcSignerClient client = server.Client("metrics-user");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.Secp256k1);
        for (int i = 0; i < 3; i++)
        {
            await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
        }
        using RawSigner raw = server.Raw(server.Token("metrics-user"));
        await RawSigner.StatusOf(async () => await raw.Client.SignFinishAsync(new Transport.V1.SignFinishRequest
        {
            KeyId = key.KeyId,
            SessionId = Google.Protobuf.ByteString.CopyFrom(new byte[16]),
            Ciphertext = Google.Protobuf.ByteString.CopyFrom([1]),
        }, raw.Headers));
        listener.RecordObservableInstruments();

        Assert.True(measurements.Count(m => m.Instrument == "mpc.signatures" && Equals(m.Tags["curve"], "secp256k1")) >= 3);
        foreach (string round in new[] { "commit", "nonce", "finish", "end_to_end" })
        {
            Assert.Contains(measurements, m => m.Instrument == "mpc.sign.duration" && Equals(m.Tags["round"], round) && m.Value > 0);
        }
        Assert.Contains(measurements, m => m.Instrument == "mpc.sign.failures" && Equals(m.Tags["reason"], "not_found"));
        Assert.Contains(measurements, m => m.Instrument == "mpc.grains.active");
        // No tag ever names a key or a user.
        Assert.DoesNotContain(measurements, m => m.Tags.Values.Any(v => v is string s && (s.Contains(key.KeyId, StringComparison.Ordinal) || s.Contains("metrics-user", StringComparison.Ordinal))));
    }

    private static Dictionary<string, object?> Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            result[tag.Key] = tag.Value;
        }
        return result;
    }
}
