using System.Globalization;
using System.Runtime.InteropServices.JavaScript;
using System.Security.Cryptography;
using System.Text.Json;
using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Protocol.Keys;

namespace Mpc.Browser;

/// <summary>
/// Device enrolment with the browser as either device, through the SDK's channel (<see cref="DeviceEnrolmentRequest"/>,
/// <see cref="DeviceHandover"/>) and the same steps as <c>mpc device request</c>, <c>handover</c> and <c>enrol</c>:
/// the pending request is sealed in IndexedDB (the CLI's pending file), and the existing device waits for the new one
/// (<see cref="NewDeviceWatch"/>) before it refreshes itself.
/// </summary>
public static partial class BrowserSigner
{
    /// <summary>
    /// New device: starts an enrolment for <paramref name="keyId"/>. The request's private part is sealed in IndexedDB
    /// (<see cref="BrowserVault.StorePendingEnrolmentAsync"/>, replacing an earlier one) before its token is shown, so a
    /// reload keeps it for its <see cref="DeviceEnrolmentRequest.Lifetime"/>. JSON <c>{ request, code, expiresAt }</c>:
    /// the token to carry to the existing device, and the code to show on this screen for the user to type there.
    /// </summary>
    [JSExport]
    public static async Task<string> RequestEnrolment(string keyId)
    {
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(keyId, Session.Clock);
        await BrowserVault.StorePendingEnrolmentAsync(request).ConfigureAwait(false);
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["request"] = request.Request.ToToken(),
            ["code"] = request.Request.ConfirmationCode,
            ["expiresAt"] = request.ExpiresAt.ToString("O", CultureInfo.InvariantCulture),
        }, BrowserJson.Default.DictionaryStringObject);
    }

    /// <summary>
    /// New device: opens the existing device's handover (<c>mpc device handover</c>'s output, or <see cref="HandOver"/>'s)
    /// with the pending request the worker unsealed (handed over, <see cref="BrowserSecrets.Take"/>, and zeroed here), once
    /// <paramref name="code"/> (typed by the user from the existing device's screen) is the handover's code, and enrols this
    /// browser as a device of the key (<see cref="MpcSignerClient.EnrolDeviceAsync"/>: its own share pair). The sealed
    /// request is deleted where <c>mpc device enrol</c> destroys its pending file: expired, used up by a refused
    /// handover, or enrolled; a code that does not match keeps it. The worker seals the share. JSON of the key.
    /// </summary>
    [JSExport]
    public static async Task<string> AcceptHandover(string handover, string code, string label)
    {
        byte[] pendingSecret = BrowserSecrets.Take(); // first: the worker zeroes its copy when this call returns
        DeviceEnrolmentRequest pending;
        try
        {
            _ = Session.Device;
            pending = DeviceEnrolmentRequest.ImportSecret(pendingSecret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pendingSecret);
        }
        ClientKeyShare handedOver;
        using (pending)
        {
            OpenedHandover opened;
            try
            {
                opened = DeviceHandover.Open(handover, code, pending, Session.Clock);
            }
            catch (MpcSignerException e) when (e.Reason == MpcErrorReason.Expired)
            {
                await BrowserVault.DestroyPendingEnrolmentAsync().ConfigureAwait(false);
                throw new MpcSignerException(e.Reason, $"{e.Message} (requestEnrolment(keyId)); the expired request was deleted from this browser", e);
            }
            catch (MpcSignerException e) when (e.Reason == MpcErrorReason.HandoverRejected)
            {
                await BrowserVault.DestroyPendingEnrolmentAsync().ConfigureAwait(false);
                throw;
            }
            using (opened)
            {
                try
                {
                    handedOver = opened.ImportShare(BrowserSession.Arithmetic);
                }
                catch (MpcSignerException)
                {
                    await BrowserVault.DestroyPendingEnrolmentAsync().ConfigureAwait(false);
                    throw;
                }
            }
        }
        using (handedOver)
        {
            MpcKey enrolled = await Session.Client.EnrolDeviceAsync(handedOver, label, BrowserVault.StorePendingAsync).ConfigureAwait(false);
            await BrowserVault.DestroyPendingEnrolmentAsync().ConfigureAwait(false);
            Session.LoseReplyIfAskedForTest(enrolled);
            Session.Add(enrolled);
            return Describe(enrolled);
        }
    }

    /// <summary>
    /// Existing device: seals <paramref name="keyId"/>'s share to the new device's request, after checking that
    /// <paramref name="code"/> (typed by the user from the new device's screen) belongs to it
    /// (<see cref="DeviceHandover.Seal"/>). With <paramref name="wait"/>, lists the key's devices before the handover
    /// leaves this browser (<see cref="NewDeviceWatch.StartAsync"/>) for <see cref="WaitForNewDevice"/>. JSON
    /// <c>{ handover, code, watch, until }</c> (the last two with <paramref name="wait"/> only): <c>code</c> is the
    /// handover's code (<see cref="SealedHandover.HandoverCode"/>) to show on this screen for the user to type on the new
    /// device. Until this browser refreshes, the share inside the handover is live.
    /// </summary>
    [JSExport]
    public static async Task<string> HandOver(string keyId, string request, string code, string userId, bool wait)
    {
        MpcKey key = Session.Key(keyId);
        byte[] secret = key.Share.ExportSecret();
        SealedHandover sealedHandover;
        try
        {
            sealedHandover = DeviceHandover.Seal(request, code, secret,
                new HandoverIdentity(userId, key.KeyId, key.Share.DeviceId, key.Curve, key.Share.EncodedPublicKey), Session.Clock);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
        var result = new Dictionary<string, object> { ["handover"] = sealedHandover.Text, ["code"] = sealedHandover.HandoverCode };
        if (wait)
        {
            NewDeviceWatch watch = await NewDeviceWatch.StartAsync(Session.Client, sealedHandover.Request, Session.Clock).ConfigureAwait(false);
            result["watch"] = Session.AddWatch(watch);
            result["until"] = watch.Deadline.ToString("O", CultureInfo.InvariantCulture);
        }
        return JsonSerializer.Serialize(result, BrowserJson.Default.DictionaryStringObject);
    }

    /// <summary>
    /// Existing device, after <see cref="HandOver"/>: polls the key's devices until the new device has enrolled; its
    /// device id, or an empty string once the request's lifetime and the grace after it have passed. Cancelled by
    /// <see cref="CancelWaitForNewDevice"/> (the page's AbortSignal).
    /// </summary>
    [JSExport]
    public static async Task<string> WaitForNewDevice(int watch)
    {
        (NewDeviceWatch newDevice, CancellationToken cancellation) = Session.TakeWatch(watch);
        try
        {
            return await newDevice.WaitAsync(cancellation).ConfigureAwait(false) ?? "";
        }
        finally
        {
            Session.EndWatch(watch);
        }
    }

    /// <summary>Stops <see cref="WaitForNewDevice"/> for <paramref name="watch"/> (started or not yet); the handover stays valid.</summary>
    [JSExport]
    public static void CancelWaitForNewDevice(int watch) => Session.CancelWatch(watch);
}
