using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mpc.Client.Diagnostics;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;

namespace Mpc.Client;

/// <summary>
/// Adds up one operation's time by kind of work, for <see cref="MpcSignerClientOptions.Timings"/>, and is the
/// operation's activity and log line (<see cref="ClientTelemetry"/>): created at the start, <see cref="Report"/>ed on
/// success, disposed on every path (an operation disposed without a report failed). One per operation; not shared.
/// </summary>
internal sealed class OperationClock(string operation, ILogger? logger = null, CurveKind? curve = null, string? keyId = null) : IDisposable
{
    private readonly Stopwatch _total = Stopwatch.StartNew();
    private readonly Activity? _activity = ClientTelemetry.StartOperation(operation, curve, keyId);
    private bool _succeeded, _ended;

    /// <summary>The key's id, once known (key generation and import learn it from the server's first reply).</summary>
    public string? KeyId { get; set; } = keyId;
    private TimeSpan _deviceSetup, _deviceSetupOverlapped, _server, _clientProofs, _verification;
    private int _roundTrips;
    private DeviceProfileSource _source;

    public async Task<RingPedersenSecret> DeviceSetup(Func<Task<(RingPedersenSecret Secret, DeviceProfileSource Source)>> step)
    {
        long start = Stopwatch.GetTimestamp();
        (RingPedersenSecret secret, _source) = await step().ConfigureAwait(false);
        _deviceSetup += Stopwatch.GetElapsedTime(start);
        return secret;
    }

    /// <summary>
    /// Waits for a device setup started before the first round trip (<see cref="DeviceSetup"/> on another thread):
    /// the part of it that ran while the operation waited for something else is counted as overlapped.
    /// </summary>
    public async Task<RingPedersenSecret> AfterOverlap(Task<RingPedersenSecret> deviceSetup)
    {
        long start = Stopwatch.GetTimestamp();
        RingPedersenSecret secret = await deviceSetup.ConfigureAwait(false);
        _deviceSetupOverlapped = _deviceSetup - Stopwatch.GetElapsedTime(start);
        if (_deviceSetupOverlapped < TimeSpan.Zero)
        {
            _deviceSetupOverlapped = TimeSpan.Zero;
        }
        return secret;
    }

    public async Task<T> Server<T>(Func<Task<T>> call)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            return await call().ConfigureAwait(false);
        }
        finally
        {
            _server += Stopwatch.GetElapsedTime(start);
            _roundTrips++;
        }
    }

    public async Task<T> ClientProofs<T>(Func<Task<T>> work)
    {
        long start = Stopwatch.GetTimestamp();
        T result = await work().ConfigureAwait(false);
        _clientProofs += Stopwatch.GetElapsedTime(start);
        return result;
    }

    public async Task<T> Verification<T>(Func<Task<T>> work)
    {
        long start = Stopwatch.GetTimestamp();
        T result = await work().ConfigureAwait(false);
        _verification += Stopwatch.GetElapsedTime(start);
        return result;
    }

    /// <summary>Marks the operation successful and hands its timings to <paramref name="sink"/> (null: only the log and the activity).</summary>
    public void Report(Action<MpcOperationTimings>? sink)
    {
        _succeeded = true;
        sink?.Invoke(new MpcOperationTimings(operation, _deviceSetup, _source, _server, _roundTrips, _clientProofs, _verification, _total.Elapsed)
        {
            DeviceSetupOverlapped = _deviceSetupOverlapped,
        });
    }

    public void Dispose()
    {
        if (_ended)
        {
            return;
        }
        _ended = true;
        ClientTelemetry.EndOperation(_activity, logger ?? NullLogger.Instance, operation, curve, KeyId, _succeeded, _total.Elapsed);
    }
}
