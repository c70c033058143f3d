using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Server.Tests.Custody;

/// <summary>
/// The existing device's wait for the new device after a handover (<see cref="NewDeviceWatch"/>, used by
/// <c>mpc device handover</c> and the browser's <c>handOver()</c>), against the real service: it names the device that
/// enrolled, and neither a backup made meanwhile nor a device that was already there counts; past its deadline it gives up.
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
        Assert.Equal(request.ExpiresAt + NewDeviceWatch.EnrolGrace, watch.Deadline);
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
        NewDeviceWatch watch = await NewDeviceWatch.StartAsync(phone, request.Request);

        var clock = new ManualTime(watch.Deadline);
        Assert.Null(await watch.WaitAsync(clock));

        // Before the deadline it polls until cancelled (during the pause between polls, or inside a poll's call).
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        Exception? stopped = await Record.ExceptionAsync(() => watch.WaitAsync(cancellationToken: cancel.Token));
        Assert.True(stopped is OperationCanceledException or Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled },
            $"expected a cancellation, got {stopped?.GetType().Name ?? "none"}");
    }
}
