using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Server.Tests.Custody;

/// <summary>
/// The existing device's wait for the new device after a handover (<see cref="NewDeviceWatch"/>, used by
/// <c>mpc device handover</c> and the browser's <c>handOver()</c>), against the real service: it names the device that
/// enrolled, and neither a backup made meanwhile nor a device that was already there counts; past its deadline, by the
/// existing device's own clock, it gives up, and not before a new device whose clock is behind can no longer enrol.
/// </summary>
[Collection("server")]
public sealed class NewDeviceWatchTests(ServerFixture server)
{
    [Fact]
    public async Task The_watch_names_the_enrolled_device_and_ignores_a_backup_and_the_devices_already_there()
    {
        using MpcSignerClient phone = server.Client("watch-enrol");
        using MpcKey key = await phone.CreateKeyAsync(CurveKind.P256);
        using MpcSignerClient laptop = server.Client("watch-enrol");
        using MpcKey earlier = await laptop.EnrolDeviceAsync(ShareCopies.Copy(laptop, key).Share, "earlier laptop");
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(key.KeyId);

        NewDeviceWatch watch = await NewDeviceWatch.StartAsync(phone, request.Request);
        Assert.Equal(key.KeyId, watch.KeyId);
        // Made just now on this clock: the request's lifetime, plus the skew the new device's clock may have, plus the grace.
        Assert.Equal(request.ExpiresAt + TimeSpan.FromMinutes(5) + NewDeviceWatch.EnrolGrace, watch.Deadline);
        // A backup made after the watch started is a new entry in the list, but not a device.
        using ClientKeyShare backup = await phone.CreateBackupAsync(key, "safe");
        Task<string?> waiting = watch.WaitAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(1500));
        Assert.False(waiting.IsCompleted, "the watch ended before any device enrolled");

        using MpcKey enrolled = await laptop.EnrolDeviceAsync(ShareCopies.Copy(laptop, key).Share, "new laptop");

        Assert.Equal(enrolled.Share.DeviceId, await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.NotEqual(earlier.Share.DeviceId, enrolled.Share.DeviceId);
    }

    [Fact]
    public async Task Past_its_deadline_the_watch_gives_up_and_cancellation_stops_it()
    {
        using MpcSignerClient phone = server.Client("watch-deadline");
        using MpcKey key = await phone.CreateKeyAsync(CurveKind.P256);
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(key.KeyId);
        var clock = new ManualTime(DateTimeOffset.UtcNow);
        NewDeviceWatch watch = await NewDeviceWatch.StartAsync(phone, request.Request, clock);

        // Measured by the clock the watch was started with.
        clock.Now = watch.Deadline;
        Assert.Null(await watch.WaitAsync());

        // Before the deadline it polls until cancelled (during the pause between polls, or inside a poll's call).
        clock.Now = watch.Deadline - TimeSpan.FromMinutes(1);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        Exception? stopped = await Record.ExceptionAsync(() => watch.WaitAsync(cancel.Token));
        Assert.True(stopped is OperationCanceledException or Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled },
            $"expected a cancellation, got {stopped?.GetType().Name ?? "none"}");
    }

    [Fact]
    public async Task The_wait_lasts_until_a_new_device_whose_clock_is_behind_can_no_longer_enrol()
    {
        // The new device's clock is 4 minutes behind this one (within the 5 minutes a request may be off): it dates
        // its request 4 minutes "earlier" than this clock, and opens the handover until its own clock says 15 minutes
        // have passed, which is 15 minutes after the request was made by this clock too, not 11; its enrolment may
        // reach the server up to EnrolGrace later.
        using MpcSignerClient phone = server.Client("watch-skew");
        using MpcKey key = await phone.CreateKeyAsync(CurveKind.P256);
        var here = new ManualTime(DateTimeOffset.UtcNow);
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(key.KeyId, new ManualTime(here.Now - TimeSpan.FromMinutes(4)));

        NewDeviceWatch watch = await NewDeviceWatch.StartAsync(phone, request.Request, here);

        DateTimeOffset lastEnrolment = here.Now + DeviceEnrolmentRequest.Lifetime + NewDeviceWatch.EnrolGrace;
        Assert.True(watch.Deadline >= lastEnrolment, $"the wait ends at {watch.Deadline:u}, before the new device's last enrolment at {lastEnrolment:u}");
        // Bounded all the same: never past the lifetime, the allowed skew and the grace from the start.
        Assert.True(watch.Deadline <= here.Now + DeviceEnrolmentRequest.Lifetime + TimeSpan.FromMinutes(5) + NewDeviceWatch.EnrolGrace);
    }
}
