namespace Mpc.Client.Custody;

/// <summary>
/// The existing device's wait, after a handover, for the new device to enrol: the key's devices are listed before the
/// handover leaves this device, and <see cref="WaitAsync"/> polls the list until a device that was not there appears
/// (not a backup, not revoked). Then the existing device refreshes its own pair, so the share that travelled in the
/// handover stops working (docs/key-custody.md, "Why the old device refreshes afterwards"). <c>mpc device handover</c>
/// and the browser's <c>handOver()</c> both wait through this.
/// </summary>
public sealed class NewDeviceWatch
{
    /// <summary>How long after the request expires an enrolment that opened it in time may still reach the server.</summary>
    public static TimeSpan EnrolGrace { get; } = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly IMpcSignerClient _client;
    private readonly HashSet<string> _devicesBefore;

    private NewDeviceWatch(IMpcSignerClient client, string keyId, HashSet<string> devicesBefore, DateTimeOffset deadline)
    {
        _client = client;
        _devicesBefore = devicesBefore;
        KeyId = keyId;
        Deadline = deadline;
    }

    public string KeyId { get; }

    /// <summary>The request's lifetime plus <see cref="EnrolGrace"/>: no enrolment of this request can arrive later.</summary>
    public DateTimeOffset Deadline { get; }

    /// <summary>Lists <paramref name="request"/>'s key's devices now: call it before the handover leaves this device.</summary>
    public static async Task<NewDeviceWatch> StartAsync(IMpcSignerClient client, EnrolmentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        IReadOnlyList<MpcDeviceInfo> devices = await client.ListDevicesAsync(request.KeyId, cancellationToken).ConfigureAwait(false);
        return new NewDeviceWatch(client, request.KeyId, [.. devices.Select(d => d.DeviceId)], request.CreatedAt + DeviceEnrolmentRequest.Lifetime + EnrolGrace);
    }

    /// <summary>The id of the first device that was not there at the start, or null once <see cref="Deadline"/> passed by <paramref name="timeProvider"/>.</summary>
    public async Task<string?> WaitAsync(TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        TimeProvider clock = timeProvider ?? TimeProvider.System;
        while (clock.GetUtcNow() < Deadline)
        {
            IReadOnlyList<MpcDeviceInfo> devices = await _client.ListDevicesAsync(KeyId, cancellationToken).ConfigureAwait(false);
            if (devices.FirstOrDefault(d => !d.IsBackup && !d.Revoked && !_devicesBefore.Contains(d.DeviceId)) is { } added)
            {
                return added.DeviceId;
            }
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
        return null;
    }
}
