using System.Diagnostics;
using System.Security.Cryptography;
using Grpc.Core;
using HdrHistogram;
using Mpc.Client;
using Mpc.Crypto.Curves;

namespace Mpc.LoadTest;

/// <summary>One user: its own client (token, channel) and key, signing random digests in a loop.</summary>
internal sealed class SimulatedUser(MpcSignerClient client) : IDisposable
{
    /// <summary>Latencies in microseconds, from 1 µs to one hour, to three significant digits.</summary>
    public static LongHistogram NewHistogram() => new(highestTrackableValue: 3_600_000_000L, numberOfSignificantValueDigits: 3);

    private MpcKey? _key;

    /// <summary>Latencies (µs) of this user's signatures started after the warm-up; written by this user's loop only.</summary>
    public LongHistogram Latencies { get; } = NewHistogram();

    public int PreparedRandomness => _key?.PreparedRandomness ?? 0;

    /// <summary>The fewest prepared randomness values this user's key held after any of its signatures in this run.</summary>
    public int FewestPreparedRandomness { get; private set; } = int.MaxValue;

    public async Task CreateKeyAsync(CurveKind curve, CancellationToken cancellationToken) =>
        _key = await client.CreateKeyAsync(curve, cancellationToken);

    public async Task RunAsync(CurveKind curve, Stopwatch clock, TimeSpan measureFrom, SignatureCounters counters, CancellationToken stop, CancellationToken abandon)
    {
        byte[] digest = new byte[EcCurve.Get(curve).ScalarLength];
        while (!stop.IsCancellationRequested)
        {
            RandomNumberGenerator.Fill(digest);
            TimeSpan started = clock.Elapsed;
            try
            {
                await client.SignDigestAsync(_key!, digest, cancellationToken: abandon);
                // The SDK refills in the background once a signature leaves half of its target or less.
                FewestPreparedRandomness = Math.Min(FewestPreparedRandomness, PreparedRandomness);
                bool measured = started >= measureFrom;
                if (measured)
                {
                    Latencies.RecordValue(Math.Max(1, (long)Math.Round((clock.Elapsed - started).TotalMicroseconds)));
                }
                counters.Signed(measured);
            }
            catch (OperationCanceledException) when (abandon.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (ErrorCode(e) is { } code)
            {
                if (stop.IsCancellationRequested)
                {
                    // Failures while stopping (Ctrl+C also stops a spawned server) are not the server's errors.
                    return;
                }
                counters.Failed(code);
                // A failing server answers fast: do not spin on it.
                await Task.Delay(TimeSpan.FromMilliseconds(20), CancellationToken.None);
            }
        }
    }

    private static string? ErrorCode(Exception e) => e switch
    {
        MpcSignerException signer => signer.Status.ToString(),
        RpcException rpc => rpc.StatusCode.ToString(),
        HttpRequestException => StatusCode.Unavailable.ToString(),
        Crypto.MpcProtocolException protocol => "Protocol:" + protocol.Code,
        _ => null,
    };

    public void Dispose()
    {
        _key?.Dispose();
        client.Dispose();
    }
}
