using System.Diagnostics;
using Mpc.Crypto.Proofs;

namespace Mpc.Client;

/// <summary>Adds up one operation's time by kind of work, for <see cref="MpcSignerClientOptions.Timings"/>. One per operation; not shared.</summary>
internal sealed class OperationClock(string operation)
{
    private readonly Stopwatch _total = Stopwatch.StartNew();
    private TimeSpan _deviceSetup, _server, _clientProofs, _verification;
    private int _roundTrips;
    private DeviceProfileSource _source;

    public async Task<RingPedersenSecret> DeviceSetup(Func<Task<(RingPedersenSecret Secret, DeviceProfileSource Source)>> step)
    {
        long start = Stopwatch.GetTimestamp();
        (RingPedersenSecret secret, _source) = await step().ConfigureAwait(false);
        _deviceSetup += Stopwatch.GetElapsedTime(start);
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

    public void Report(Action<MpcOperationTimings>? sink) =>
        sink?.Invoke(new MpcOperationTimings(operation, _deviceSetup, _source, _server, _roundTrips, _clientProofs, _verification, _total.Elapsed));
}
