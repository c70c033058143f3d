using System.CommandLine;
using System.Diagnostics;
using Mpc.Client;
using Mpc.Client.KeyStore;

namespace Mpc.Cli;

/// <summary>`mpc refresh`, `mpc device list|revoke`, `mpc admin unfreeze`: the life of a key after it is made.</summary>
internal static class CustodyCommands
{
    public static Command Refresh()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token(), passphraseEnv = CommonOptions.PassphraseEnv();
        Option<bool> unprotected = CommonOptions.OpenUnprotected(" (the refreshed share is then stored without one too)");
        var keyFile = new Option<string>("--key") { Description = "Key file; rewritten in place with the new share", Required = true };
        Option<bool> verbose = DeviceProfileCli.Verbose();
        var command = new Command("refresh",
            "Replace this device's share pair with a fresh one (same public key). The old share, and every copy of it, stops working.")
        {
            server, token, keyFile, passphraseEnv, unprotected, verbose,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            // The key file's Argon2id and the profile's are one when the file was written under the profile's
            // derivation; the refreshed file is written under it (docs/key-custody.md, "One Argon2id per command").
            // The file is decrypted on another thread while the refresh's first round trips run from its clear header
            // (docs/key-custody.md, "A refresh while the key file opens").
            using var derivedKeys = new PassphraseKeyCache();
            string path = parse.GetValue(keyFile)!;
            // Taken before the file is read: the share refreshed must be the one a concurrent command leaves.
            using KeyFileLock held = KeyFileLocks.LockExisting(path);
            KeyFileOpening opening = KeyFileOpening.Begin(path, parse.GetValue(passphraseEnv), parse.GetValue(unprotected), derivedKeys, inBackground: true);
            bool isVerbose = parse.GetValue(verbose);
            var clock = Stopwatch.StartNew();
            TimeSpan keyFileTime = TimeSpan.Zero;
            MpcKey refreshed;
            try
            {
                using MpcSignerClient client = CommonOptions.Client(parse, server, token, DeviceProfileCli.For(path, opening.Protection, isVerbose));
                Console.Error.WriteLine("Refreshing: a new Paillier key and proofs on the server, checks here (a few seconds)...");
                refreshed = await PendingRefresh.RunAsync(client, held, opening.Header.UserId, opening.Protection,
                    save => client.RefreshKeyFileAsync(opening.Header, opening.Share, async (share, ct) =>
                    {
                        long saving = Stopwatch.GetTimestamp();
                        await save(share, ct);
                        keyFileTime = Stopwatch.GetElapsedTime(saving);
                    }, cancellationToken), cancellationToken);
            }
            finally
            {
                // Whatever happened, the opening is awaited (its failure was the refresh's to report) and its share zeroed.
                await opening.DisposeShareAsync();
            }
            using MpcKey _ = refreshed;
            DeviceProfileCli.PrintLocal(isVerbose, keyFileTime);
            Console.Error.WriteLine($"Refreshed key {refreshed.KeyId} (device {refreshed.Share.DeviceId}) in {clock.Elapsed.TotalSeconds:0.0} s; {path} now holds the new share.");
            Console.WriteLine($"Share id: {Convert.ToHexStringLower(refreshed.Share.ShareId)}");
            return 0;
        }));
        return command;
    }

    public static Command Device()
    {
        var command = new Command("device", "A key's devices: each holds its own share pair for the same public key.")
        {
            ListDevices(),
            RevokeDevice(),
            DeviceProfileCli.Command(),
            DeviceEnrolmentCommands.Request(),
            DeviceEnrolmentCommands.Handover(),
            DeviceEnrolmentCommands.Enrol(),
        };
        return command;
    }

    private static Command ListDevices()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token();
        var keyId = KeyIdOption();
        Option<bool> json = CommonOptions.Json("the devices and backups");
        var command = new Command("list", "List the key's devices and backups.") { server, token, keyId, json };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            using MpcSignerClient client = CommonOptions.Client(parse, server, token);
            string id = parse.GetValue(keyId)!;
            DeviceJson[] devices = [.. (await client.ListDevicesAsync(id, cancellationToken)).Select(DeviceJson.Of)];
            if (parse.GetValue(json))
            {
                await CliJson.WriteAsync(Console.Out, new DevicesJson(id, devices));
                return 0;
            }
            Console.WriteLine($"{"DEVICE",-24} {"KIND",-7} {"STATE",-14} {"CREATED",-20} {"REFRESHED",-20} LABEL");
            foreach (DeviceJson device in devices)
            {
                Console.WriteLine($"{device.DeviceId,-24} {device.Kind,-7} {device.State,-14} {device.CreatedAt:yyyy-MM-dd HH:mm:ss}  {(device.RefreshedAt is { } r ? r.ToString("yyyy-MM-dd HH:mm:ss") : "-"),-20} {device.Label}");
            }
            return 0;
        }));
        return command;
    }

    /// <summary>`mpc device list --json` (<see cref="CliJson"/>): <c>{"keyId": ..., "devices": [...]}</c>, in the server's order, as the text lists them.</summary>
    internal sealed record DevicesJson(string KeyId, IReadOnlyList<DeviceJson> Devices);

    /// <summary>
    /// One device or backup as `mpc device list` shows it: kind "device" or "backup", state "active", "must-refresh" or
    /// "revoked", refreshedAt and revokedAt null until they happen, and its current share id (hex).
    /// </summary>
    internal sealed record DeviceJson(
        string DeviceId, string Kind, string Label, string State, DateTimeOffset CreatedAt, DateTimeOffset? RefreshedAt, DateTimeOffset? RevokedAt, string ShareId)
    {
        public static DeviceJson Of(MpcDeviceInfo device) => new(
            device.DeviceId, device.Kind, device.Label, device.Revoked ? "revoked" : device.MustRefresh ? "must-refresh" : "active",
            device.CreatedAt, device.RefreshedAt, device.RevokedAt, device.ShareId);
    }

    private static Command RevokeDevice()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token();
        var keyId = KeyIdOption();
        var device = new Option<string>("--device") { Description = "The device (or backup) id, from mpc device list", Required = true };
        var command = new Command("revoke", "Destroy a device's server-side share: its client share never signs again.") { server, token, keyId, device };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            using MpcSignerClient client = CommonOptions.Client(parse, server, token);
            MpcDeviceInfo revoked = await client.RevokeDeviceAsync(parse.GetValue(keyId)!, parse.GetValue(device)!, cancellationToken);
            Console.WriteLine($"Revoked {revoked.Kind} {revoked.DeviceId} at {revoked.RevokedAt:u}.");
            return 0;
        }));
        return command;
    }

    public static Command Admin()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token();
        var user = new Option<string>("--user") { Description = "The key's owner (the token subject of their requests)", Required = true };
        var keyId = KeyIdOption();
        var revoke = new Option<string?>("--revoke-device") { Description = "Also revoke this device (normally the one whose signature failed)" };
        var unfreeze = new Command("unfreeze",
            "Lift a freeze (operator token with scope mpc.admin). Every remaining device must refresh before it signs again.")
        {
            server, token, user, keyId, revoke,
        };
        unfreeze.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            using MpcSignerClient client = CommonOptions.Client(parse, server, token);
            MpcKeyInfo key = await client.UnfreezeKeyAsync(parse.GetValue(user)!, parse.GetValue(keyId)!, parse.GetValue(revoke), cancellationToken);
            Console.WriteLine($"Key {key.KeyId} is unfrozen; each of its devices must run mpc refresh before it signs.");
            return 0;
        }));
        return new Command("admin", "Operator commands.") { unfreeze };
    }

    private static Option<string> KeyIdOption() => new("--key-id") { Description = "Key id", Required = true };
}
