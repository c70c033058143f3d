using System.CommandLine;
using System.Diagnostics;
using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Client.DeviceProfiles;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Proofs;

namespace Mpc.Cli;

/// <summary>
/// This device's proof parameters for the CLI: a sealed profile file next to the key files (<see cref="FileName"/>),
/// under the key file's passphrase and bound to this machine's device id, so that every keygen, refresh, import,
/// backup, restore and enrolment after the first reuses them instead of finding two safe primes again.
/// `mpc device profile` shows it and, with --regenerate, replaces it.
/// </summary>
internal static class DeviceProfileCli
{
    public const string FileName = "mpc-device.profile";
    public const string DeviceIdVariable = "MPC_DEVICE_ID";
    public const string VerboseOption = "--verbose";

    /// <summary>MPC_DEVICE_ID when set (containers that share a machine id, tests), otherwise this machine's id.</summary>
    public static string DeviceId() =>
        Environment.GetEnvironmentVariable(DeviceIdVariable) is { Length: > 0 } given ? given : LocalDeviceId.OfThisMachine();

    public static string PathIn(string directory) => Path.Combine(Path.GetFullPath(directory), FileName);

    public static string PathNextTo(string keyFile) => PathIn(Path.GetDirectoryName(Path.GetFullPath(keyFile))!);

    public static Option<bool> Verbose() => new(VerboseOption) { Description = "Print where the time went (device setup, server, proofs, verification, key file) on stderr" };

    /// <summary>
    /// Sets the client's device profile store for a command whose key file is <paramref name="keyFile"/> (protected
    /// with <paramref name="protection"/>), its progress line and, with <paramref name="verbose"/>, its timing line.
    /// A key file stored without a passphrase gets no profile: its parameters are made for this run only.
    /// </summary>
    public static Action<MpcSignerClientOptions> For(string keyFile, KeyFileProtection protection, bool verbose) => options =>
    {
        if (protection.IsProtected)
        {
            options.DeviceProfileStore = new Store(new DeviceProfileFile(PathNextTo(keyFile), DeviceId(), protection));
            options.Progress = note => Console.Error.WriteLine(note);
        }
        else
        {
            options.Progress = note => Console.Error.WriteLine($"{note} (for this run only: {CommonOptions.UnprotectedOption} keeps no device profile)");
        }
        if (verbose)
        {
            options.Timings = PrintTimings;
        }
    };

    /// <summary>
    /// Loads (or creates) the device profile before a command prints its progress line, so a refused profile is the
    /// command's only line (`mpc refresh` opens it during its first round trips instead, after its progress line). With <paramref name="verbose"/>, prints how long that took (the SDK's own line then
    /// shows the parameters as already loaded).
    /// </summary>
    public static async Task PrepareAsync(MpcSignerClient client, bool verbose, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        DeviceProfileSource source = await client.PrepareDeviceProfileAsync(cancellationToken);
        if (verbose)
        {
            Console.Error.WriteLine($"time: device setup {Seconds(Stopwatch.GetElapsedTime(start))} ({Describe(source)})");
        }
    }

    /// <summary>The command's own share of the time, after the SDK's line: the key file and the whole process.</summary>
    public static void PrintLocal(bool verbose, TimeSpan keyFile)
    {
        if (verbose)
        {
            TimeSpan process = DateTime.Now - Process.GetCurrentProcess().StartTime;
            Console.Error.WriteLine($"time: key file {Seconds(keyFile)}, whole command {Seconds(process)} (since the process started)");
        }
    }

    private static void PrintTimings(MpcOperationTimings t)
    {
        TimeSpan other = t.Total - (t.DeviceSetup - t.DeviceSetupOverlapped) - t.Server - t.ClientProofs - t.Verification;
        string overlapped = t.DeviceSetupOverlapped > TimeSpan.Zero ? $", {Seconds(t.DeviceSetupOverlapped)} of it while waiting for the server" : "";
        Console.Error.WriteLine($"time ({t.Operation}): device setup {Seconds(t.DeviceSetup)} ({Describe(t.DeviceProfile)}{overlapped}), server {Seconds(t.Server)} ({t.RoundTrips} round trips), " +
            $"client proofs {Seconds(t.ClientProofs)}, verification {Seconds(t.Verification)}, other {Seconds(other)}, total {Seconds(t.Total)}");
    }

    private static string Describe(DeviceProfileSource source) => source switch
    {
        DeviceProfileSource.Loaded => "profile loaded",
        DeviceProfileSource.Created => "profile created",
        DeviceProfileSource.Ephemeral => "made for this run",
        DeviceProfileSource.Cached => "already loaded",
        _ => "given",
    };

    private static string Seconds(TimeSpan time) => $"{time.TotalSeconds:0.000} s";

    /// <summary>`mpc device profile [--dir DIR] [--regenerate]`.</summary>
    public static Command Command()
    {
        var directory = new Option<string>("--dir") { Description = "The directory of this device's key files, where the profile is kept", DefaultValueFactory = _ => "." };
        var regenerate = new Option<bool>("--regenerate") { Description = "Make new proof parameters and replace the profile, whatever it holds (existing keys are not affected)" };
        Option<string?> passphraseEnv = CommonOptions.PassphraseEnv();
        var command = new Command("profile",
            $"Show this device's proof parameters ({FileName} next to the key files), or replace them with --regenerate.")
        {
            directory, regenerate, passphraseEnv,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            string dir = parse.GetValue(directory)!;
            string path = PathIn(dir);
            string deviceId = DeviceId();
            if (parse.GetValue(regenerate))
            {
                KeyFileProtection protection = CommonOptions.Protection(parse.GetValue(passphraseEnv), unprotected: false, confirm: true);
                Console.Error.WriteLine(MpcSignerClient.CreatingDeviceProfileNote);
                using DeviceProfile created = await Task.Run(() => DeviceProfile.Create(deviceId), cancellationToken);
                await new DeviceProfileFile(path, deviceId, protection).SaveAsync(created, cancellationToken);
                Console.Error.WriteLine($"{path} now holds new proof parameters for device {deviceId}; keys made before keep working.");
                Print(path, created);
                return 0;
            }
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"No device profile at {path}: the next keygen, refresh or import with a key file in {Path.GetDirectoryName(path)} creates it.");
                Console.WriteLine($"Device: {deviceId}");
                return 0;
            }
            string passphrase = CommonOptions.KeyFilePassphrase(parse.GetValue(passphraseEnv));
            using DeviceProfile profile = await new Store(new DeviceProfileFile(path, deviceId, KeyFileProtection.Passphrase(passphrase))).LoadAsync(cancellationToken)
                ?? throw CliException.LocalInput($"{path} disappeared while it was read: run the command again");
            Print(path, profile);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// After `mpc passphrase --key FILE`: the profile beside FILE, if it opens with the old passphrase, is re-sealed
    /// under the new one, so the next command with that key file still opens it. One that does not open with the old
    /// passphrase (sealed under another, or already re-sealed by an earlier change) is left as it is.
    /// </summary>
    public static async Task ResealBeside(string keyFile, string oldPassphrase, string newPassphrase, CancellationToken cancellationToken)
    {
        string path = PathNextTo(keyFile);
        if (!File.Exists(path))
        {
            return;
        }
        string deviceId = DeviceId();
        DeviceProfile? profile;
        try
        {
            profile = await new DeviceProfileFile(path, deviceId, KeyFileProtection.Passphrase(oldPassphrase)).LoadAsync(cancellationToken);
        }
        catch (MpcSignerException)
        {
            Console.Error.WriteLine($"{path} does not open with the old passphrase; it is left as it is.");
            return;
        }
        using (profile)
        {
            if (profile is not null)
            {
                await new DeviceProfileFile(path, deviceId, KeyFileProtection.Passphrase(newPassphrase)).SaveAsync(profile, cancellationToken);
                Console.Error.WriteLine($"{path} (this device's proof parameters) re-sealed under the new passphrase too.");
            }
        }
    }

    private static void Print(string path, DeviceProfile profile)
    {
        Console.WriteLine($"Profile: {path}");
        Console.WriteLine($"Device: {profile.DeviceId}");
        Console.WriteLine($"Created: {profile.CreatedAt:u}");
        Console.WriteLine($"Ring-Pedersen N: {profile.ModulusBits} bits, fingerprint {profile.Fingerprint}");
    }

    /// <summary>The file store, with a refused profile turned into one line that says how to get out.</summary>
    private sealed class Store(DeviceProfileFile file) : IDeviceProfileStore, IDeviceProfilePeek
    {
        public ValueTask<RingPedersenParameters?> PeekParametersAsync(CancellationToken cancellationToken) =>
            ((IDeviceProfilePeek)file).PeekParametersAsync(cancellationToken);

        public string DeviceId => file.DeviceId;

        public async Task<DeviceProfile?> LoadAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await file.LoadAsync(cancellationToken);
            }
            catch (MpcSignerException e)
            {
                string regenerate = $"mpc device profile --dir {Path.GetDirectoryName(file.Path)} --regenerate";
                throw CliException.LocalInput(e.Reason switch
                {
                    MpcErrorReason.OtherDevice => $"{e.Message}: it was copied from there; run {regenerate} to give this device its own (keys are not affected)",
                    MpcErrorReason.WrongPassphrase => $"{e.Message}: give the passphrase it was sealed with (that of the key files beside it), or run {regenerate}",
                    _ => $"{e.Message}; run {regenerate} to replace it (keys are not affected)",
                });
            }
        }

        public Task SaveAsync(DeviceProfile profile, CancellationToken cancellationToken) => file.SaveAsync(profile, cancellationToken);
    }
}
