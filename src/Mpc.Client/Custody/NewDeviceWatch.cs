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
    private readonly TimeProvider _clock;

    private NewDeviceWatch(IMpcSignerClient client, string keyId, HashSet<string> devicesBefore, TimeProvider clock, DateTimeOffset deadline)
    {
        _client = client;
        _devicesBefore = devicesBefore;
        _clock = clock;
        KeyId = keyId;
        Deadline = deadline;
    }

    public string KeyId { get; }

    /// <summary>
    /// When the wait ends, by this device's clock: no enrolment of the request can arrive later. The new device opens
    /// the handover while its own clock says the request is younger than <see cref="DeviceEnrolmentRequest.Lifetime"/>,
    /// and its clock may differ from this one by up to the skew a request is allowed (5 minutes): so the deadline is
    /// the lifetime counted from the earlier of this device's time at the start and the request's own time, plus that
    /// skew, plus <see cref="EnrolGrace"/>. (The request's time alone, compared with this clock, ended the wait too
    /// early when the new device's clock was behind, and the old device then never refreshed.)
    /// </summary>
    public DateTimeOffset Deadline { get; }

    /// <summary>
    /// Lists <paramref name="request"/>'s key's devices now: call it before the handover leaves this device.
    /// <paramref name="timeProvider"/> is this device's clock (default: the system's), for the deadline and the wait.
    /// </summary>
    public static async Task<NewDeviceWatch> StartAsync(IMpcSignerClient client, EnrolmentRequest request, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        TimeProvider clock = timeProvider ?? TimeProvider.System;
        DateTimeOffset sealing = clock.GetUtcNow();
        IReadOnlyList<MpcDeviceInfo> devices = await client.ListDevicesAsync(request.KeyId, cancellationToken).ConfigureAwait(false);
        DateTimeOffset lastOpening = (sealing < request.CreatedAt ? sealing : request.CreatedAt) + DeviceEnrolmentRequest.Lifetime + Tokens.MaxClockSkew;
        return new NewDeviceWatch(client, request.KeyId, [.. devices.Select(d => d.DeviceId)], clock, lastOpening + EnrolGrace);
    }

    /// <summary>The id of the first device that was not there at the start, or null once <see cref="Deadline"/> passed by this device's clock.</summary>
    public async Task<string?> WaitAsync(CancellationToken cancellationToken = default)
    {
        while (_clock.GetUtcNow() < Deadline)
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
