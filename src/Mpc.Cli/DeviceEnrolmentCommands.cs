using System.CommandLine;
using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Client.KeyStore;
using Mpc.Protocol.Keys;

namespace Mpc.Cli;

/// <summary>
/// Enrolling a new device from an existing one: `mpc device request` (new device), `mpc device handover`
/// (existing device) and `mpc device enrol` (new device).
/// </summary>
internal static class DeviceEnrolmentCommands
{
    public static Command Request()
    {
        var output = new Option<string>("--pending") { Description = "Where this device keeps the request's private half until the handover arrives", Required = true };
        var keyId = new Option<string>("--key-id") { Description = "The key to enrol this device for (mpc device list and the existing device show it)", Required = true };
        var passphraseEnv = CommonOptions.PassphraseEnv();
        var command = new Command("request",
            "On the NEW device: start an enrolment. Prints a request (stdout) to carry to an existing device, and shows a code (on the terminal only) to type there yourself (valid 15 minutes).")
        {
            output, keyId, passphraseEnv,
        };
        command.SetAction((parse, _) => CliErrors.Run(parse, () =>
        {
            using DeviceEnrolmentRequest request = NewRequest(parse.GetValue(output)!, parse.GetValue(keyId)!, () => CommonOptions.Secret(
                parse.GetValue(passphraseEnv), CommonOptions.PassphraseVariable, CommonOptions.PassphraseEnvOption, "Passphrase for this device's key file", confirm: true));
            // The code goes to the terminal (stderr) only, never to stdout with the request: stdout is what gets redirected
            // to a file or pasted into a chat, and a code that travels with the request proves nothing about it.
            Console.Error.WriteLine("Carry the request (printed on stdout) to an existing device and run there:");
            Console.Error.WriteLine("  mpc device handover --key KEYFILE --request <request> --out HANDOVER");
            Console.Error.WriteLine($"Confirmation code: {request.Request.ConfirmationCode}");
            Console.Error.WriteLine("Read it from THIS screen and type it on the existing device yourself; never send it with the request, or by the same channel.");
            Console.WriteLine(request.Request.ToToken());
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>
    /// `mpc device request`'s request for <paramref name="keyId"/>, its private half sealed under the passphrase into
    /// <paramref name="pendingPath"/>: free when the command starts, and taken only if still free once the passphrase
    /// (a prompt, which can take long) is known. Not yet printed, so a refusal at the end leaves nothing worth keeping.
    /// </summary>
    internal static DeviceEnrolmentRequest NewRequest(string pendingPath, string keyId, Func<string> passphrase)
    {
        TransferCommands.RequireNew(pendingPath);
        string secret = passphrase();
        DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(keyId);
        try
        {
            TransferCommands.WriteNew(pendingPath, request.ExportPending(secret), "no request was made");
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    public static Command Handover()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token(), passphraseEnv = CommonOptions.PassphraseEnv();
        Option<bool> unprotected = CommonOptions.OpenUnprotected();
        var keyFile = new Option<string>("--key") { Description = "This (existing) device's key file", Required = true };
        var request = new Option<string>("--request") { Description = "The request printed by mpc device request on the new device", Required = true };
        var code = new Option<string?>("--code") { Description = "The code mpc device request shows on the NEW device's screen (otherwise a prompt)" };
        var output = new Option<string>("--out") { Description = "Handover file to carry to the new device", Required = true };
        var noWait = new Option<bool>("--no-wait") { Description = "Do not wait for the enrolment to refresh this device's pair (then run mpc refresh here once the new device is enrolled)" };
        var command = new Command("handover",
            "On an EXISTING device: after you type the code the new device shows, encrypt this device's share to its request and show a code (on the terminal only) to type there; then wait for the enrolment and refresh this device's pair.")
        {
            server, token, keyFile, request, code, output, noWait, passphraseEnv, unprotected,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            string outPath = TransferCommands.RequireNew(parse.GetValue(output)!);
            // The code is checked before the key file is even opened: a substituted request gets nothing.
            string typed = parse.GetValue(code) ?? CommonOptions.PromptLine("Code shown on the new device", "--code");
            EnrolmentRequest confirmed = DeviceHandover.Confirm(parse.GetValue(request)!.Trim(), typed);
            bool wait = !parse.GetValue(noWait);
            // Waiting ends in a refresh of the key file: locked before it is read, until the refresh is done.
            using KeyFileLock? held = wait ? KeyFileLocks.LockExisting(parse.GetValue(keyFile)!) : null;
            OpenedKeyFile opened = OpenedKeyFile.Open(parse.GetValue(keyFile)!, parse.GetValue(passphraseEnv), parse.GetValue(unprotected));
            MpcSignerClient? client = wait ? CommonOptions.Client(parse, server, token, DeviceProfileCli.For(opened.Path, opened.Protection, verbose: false)) : null;
            using (client)
            {
                using ClientKeyShare share = opened.Share;
                if (confirmed.KeyId != share.KeyId)
                {
                    throw CliException.LocalInput($"the request asks for key {confirmed.KeyId}, but {opened.Path} holds key {share.KeyId}; nothing was sealed: give --key the file of key {confirmed.KeyId}");
                }
                NewDeviceWatch? watch = client is null ? null : await NewDeviceWatch.StartAsync(client, confirmed, cancellationToken: cancellationToken);
                byte[] secret = share.ExportSecret();
                string handoverCode;
                try
                {
                    SealedHandover sealedHandover = DeviceHandover.Seal(parse.GetValue(request)!.Trim(), typed, secret,
                        new HandoverIdentity(opened.Info.UserId, share.KeyId, share.DeviceId, share.Curve, share.EncodedPublicKey));
                    // The key file keeps the share: a handover that cannot be written is not kept anywhere else.
                    TransferCommands.WriteNew(outPath, System.Text.Encoding.ASCII.GetBytes(sealedHandover.Text + "\n"), "nothing was handed over");
                    handoverCode = sealedHandover.HandoverCode;
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(secret);
                }
                // As with the request's code: the terminal only, never stdout or the file, which travel to the new device.
                Console.Error.WriteLine($"Handover written to {outPath}. On the new device run mpc device enrol --pending PENDING --handover {Path.GetFileName(outPath)} --out KEYFILE");
                Console.Error.WriteLine($"Handover code: {handoverCode}");
                Console.Error.WriteLine("Read it from THIS screen and type it on the new device when mpc device enrol asks; never send it with the handover, or by the same channel.");
                if (client is null || watch is null || held is null)
                {
                    Console.Error.WriteLine($"Once the new device is enrolled, run mpc refresh --key {opened.Path} here: until then the share inside the handover is this device's live share.");
                    return 0;
                }
                Console.Error.WriteLine($"Waiting for the new device to enrol (until {watch.Deadline.ToLocalTime():HH:mm}; Ctrl+C stops waiting, then run mpc refresh here yourself)...");
                string? enrolled = await watch.WaitAsync(cancellationToken);
                if (enrolled is null)
                {
                    throw new CliException($"no new device enrolled before the request expired; delete {outPath} and run mpc refresh --key {opened.Path} if it may have been copied");
                }
                Console.Error.WriteLine($"Device {enrolled} is enrolled. Refreshing this device's pair, so the share that travelled in the handover stops working...");
                using MpcKey key = client.OpenKey(share);
                using MpcKey refreshed = await PendingRefresh.RunAsync(client, held, opened.Info.UserId, opened.Protection,
                    save => client.RefreshKeyAsync(key, save, cancellationToken), cancellationToken);
                Console.Error.WriteLine($"Done: {opened.Path} holds this device's new share; delete {outPath}.");
                Console.WriteLine($"Enrolled device: {enrolled}");
            }
            return 0;
        }));
        return command;
    }

    public static Command Enrol()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token(), passphraseEnv = CommonOptions.PassphraseEnv();
        var pending = new Option<string>("--pending") { Description = "The file written by mpc device request", Required = true };
        var handover = new Option<string>("--handover") { Description = "The file written by mpc device handover", Required = true };
        var output = new Option<string>("--out") { Description = "Key file to write for this device", Required = true };
        var handoverCode = new Option<string?>("--handover-code") { Description = "The code mpc device handover shows on the EXISTING device's screen (otherwise a prompt)" };
        var label = new Option<string>("--label") { Description = "A name for this device", DefaultValueFactory = _ => "" };
        var command = new Command("enrol",
            "On the NEW device: after you type the code the existing device shows, open the handover made for this device's request, check its share, and refresh with the server into this device's own share pair.")
        {
            server, token, pending, handover, handoverCode, output, label, passphraseEnv,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            using KeyFileLock held = KeyFileLocks.LockNew(parse.GetValue(output)!);
            string outPath = held.KeyFile;
            string pendingPath = parse.GetValue(pending)!;
            string secret = CommonOptions.Secret(parse.GetValue(passphraseEnv), CommonOptions.PassphraseVariable, CommonOptions.PassphraseEnvOption, "Passphrase for this device's key file", confirm: false);
            KeyFileProtection protection = KeyFileProtection.Passphrase(secret);
            using MpcSignerClient client = CommonOptions.Client(parse, server, token, DeviceProfileCli.For(outPath, protection, verbose: false));
            // An earlier run's new share is settled first: its request has often expired by the time the run is
            // repeated, and an expired request is destroyed below before the enrolment would reach the settling.
            if (File.Exists(PendingKeyFile.PendingPathOf(outPath))
                && await PendingRefresh.SettleEarlierRunAsync(client, held, protection, cancellationToken) is { } enrolledEarlier)
            {
                using (enrolledEarlier)
                {
                    if (File.Exists(pendingPath))
                    {
                        DeviceEnrolmentRequest.DestroyPendingFile(pendingPath);
                    }
                    Console.Error.WriteLine($"An earlier interrupted run had completed: enrolled as device {enrolledEarlier.Share.DeviceId}; {outPath} holds its share. Delete the handover file.");
                    Console.WriteLine($"Device id: {enrolledEarlier.Share.DeviceId}");
                }
                return 0;
            }
            using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.ImportPending(await File.ReadAllBytesAsync(pendingPath, cancellationToken), secret);
            string handoverText = (await File.ReadAllTextAsync(parse.GetValue(handover)!, cancellationToken)).Trim();
            OpenedHandover opened;
            ClientKeyShare handedOver;
            try
            {
                // Expiry before the code: an expired request cannot use it, and a script without --handover-code
                // should hear that the request expired, not that a code is missing.
                request.ThrowIfExpired();
                string typed = parse.GetValue(handoverCode) ?? CommonOptions.PromptLine("Code shown on the existing device", "--handover-code");
                // A code that does not match (CodeMismatch) leaves the pending file as it is: the genuine handover still opens.
                opened = DeviceHandover.Open(handoverText, typed, request);
            }
            catch (MpcSignerException e) when (e.Reason == MpcErrorReason.Expired)
            {
                // Expiry is only this device's clock check: the pending file's key would still open the handover
                // (or any other sealed to the request), so it goes too, as the browser deletes its sealed request.
                DeviceEnrolmentRequest.DestroyPendingFile(pendingPath);
                throw new MpcSignerException(e.Reason,
                    $"{e.Message} (mpc device request --pending PENDING --key-id {request.Request.KeyId}); the pending request {pendingPath} was deleted", e);
            }
            catch (MpcSignerException e) when (e.Reason == MpcErrorReason.HandoverRejected)
            {
                DeviceEnrolmentRequest.DestroyPendingFile(pendingPath);
                throw;
            }
            using (opened)
            {
                try
                {
                    handedOver = opened.ImportShare();
                }
                catch (MpcSignerException)
                {
                    DeviceEnrolmentRequest.DestroyPendingFile(pendingPath);
                    throw;
                }
            }
            await DeviceProfileCli.PrepareAsync(client, verbose: false, cancellationToken);
            Console.Error.WriteLine($"Enrolling a new device for key {handedOver.KeyId} (a few seconds)...");
            using (handedOver)
            using (MpcKey enrolled = await PendingRefresh.RunAsync(client, held, opened.Identity.UserId, protection,
                save => client.EnrolDeviceAsync(handedOver, parse.GetValue(label)!, save, cancellationToken), cancellationToken))
            {
                DeviceEnrolmentRequest.DestroyPendingFile(pendingPath);
                Console.Error.WriteLine($"Enrolled as device {enrolled.Share.DeviceId}; {outPath} holds its share. Delete the handover file.");
                Console.WriteLine($"Device id: {enrolled.Share.DeviceId}");
            }
            return 0;
        }));
        return command;
    }
}
