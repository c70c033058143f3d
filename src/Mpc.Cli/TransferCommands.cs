using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Cli;

/// <summary>
/// Moving a key into and between places the user controls: `mpc import`, `mpc backup`, `mpc restore` and
/// `mpc passphrase` (`mpc device request|handover|enrol`: <see cref="DeviceEnrolmentCommands"/>).
/// </summary>
internal static class TransferCommands
{
    public const string BackupPassphraseVariable = "MPC_BACKUP_PASSPHRASE";
    public const string ImportPasswordVariable = "MPC_IMPORT_PASSWORD";
    private const string BackupPassphraseEnvOption = "--backup-passphrase-env";

    public static Command Import()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token(), passphraseEnv = CommonOptions.PassphraseEnv();
        Option<bool> unprotected = CommonOptions.StoreUnprotected();
        var input = new Option<string>("--in") { Description = "The key to import: PKCS#12 (.p12/.pfx), PKCS#8 PEM (encrypted or not) or SEC1 PEM", Required = true };
        var passwordEnv = new Option<string?>("--password-env") { Description = $"Environment variable holding the file's password (default {ImportPasswordVariable}; none for an unencrypted PEM)" };
        var output = new Option<string>("--out") { Description = "Key file to write (this device's share, encrypted)", Required = true };
        var label = new Option<string>("--label") { Description = "A name for this device", DefaultValueFactory = _ => "" };
        Option<bool> verbose = DeviceProfileCli.Verbose();
        var command = new Command("import",
            "Import an EC key you hold whole (P-256, P-384, secp256k1): it is split here and refreshed with the server, with its certificate chain.")
        {
            server, token, input, passwordEnv, output, label, passphraseEnv, unprotected, verbose,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            string inPath = parse.GetValue(input)!;
            using KeyFileLock held = KeyFileLocks.LockNew(parse.GetValue(output)!);
            string outPath = held.KeyFile;
            string tokenValue = CommonOptions.TokenValue(parse.GetValue(token));
            string user = CommonOptions.UserOf(tokenValue);
            string password = ImportPassword(parse.GetValue(passwordEnv));
            using ImportedKey imported = ReadKey(inPath, password);
            KeyFileProtection protection = CommonOptions.Protection(parse.GetValue(passphraseEnv), parse.GetValue(unprotected), confirm: true);
            int certificates = imported.CertificateChain.Count;
            bool isVerbose = parse.GetValue(verbose);
            using MpcSignerClient client = CommonOptions.Client(parse, server, tokenValue, DeviceProfileCli.For(outPath, protection, isVerbose));
            await DeviceProfileCli.PrepareAsync(client, isVerbose, cancellationToken);
            Console.Error.WriteLine($"Splitting the {EcCurve.NameOf(imported.Curve)} key and refreshing both parts with the server (a few seconds)...");
            var clock = Stopwatch.StartNew();
            TimeSpan keyFileTime = TimeSpan.Zero;
            MpcKey key = await PendingRefresh.RunAsync(client, held, user, protection,
                save => client.ImportKeyAsync(imported, parse.GetValue(label)!, async (share, ct) =>
                {
                    long saving = Stopwatch.GetTimestamp();
                    await save(share, ct);
                    keyFileTime = Stopwatch.GetElapsedTime(saving);
                }, cancellationToken), cancellationToken);
            DeviceProfileCli.PrintLocal(isVerbose, keyFileTime);
            using (key)
            {
                Console.Error.WriteLine($"Imported in {clock.Elapsed.TotalSeconds:0.0} s; this device's share is in {outPath}" +
                    (certificates > 0 ? $"; {certificates} certificate(s) stored with the key." : "; the file had no certificate (mpc cert makes one)."));
                Console.Error.WriteLine($"Now destroy {inPath} and every copy of it (e.g. shred -u {inPath}): whoever holds it can still sign without the server.");
                Console.WriteLine($"Key id: {key.KeyId}");
                Console.Write(key.PublicKeyPem);
            }
            return 0;
        }));
        return command;
    }

    public static Command Backup()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token(), passphraseEnv = CommonOptions.PassphraseEnv();
        Option<bool> unprotected = CommonOptions.OpenUnprotected();
        var keyFile = new Option<string>("--key") { Description = "This device's key file", Required = true };
        var output = new Option<string>("--out") { Description = "Backup file to write; keep it offline, away from the server", Required = true };
        var backupEnv = BackupPassphraseEnv();
        var label = new Option<string>("--label") { Description = "A name for the backup, e.g. where it is kept", DefaultValueFactory = _ => "backup" };
        var command = new Command("backup",
            "Make a passphrase-wrapped backup share of a key. The server keeps a matching half that never signs; a backup restores once.")
        {
            server, token, keyFile, output, backupEnv, label, passphraseEnv, unprotected,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            string outPath = RequireNew(parse.GetValue(output)!);
            OpenedKeyFile opened = OpenedKeyFile.Open(parse.GetValue(keyFile)!, parse.GetValue(passphraseEnv), parse.GetValue(unprotected));
            string backupPassphrase = CommonOptions.Secret(parse.GetValue(backupEnv), BackupPassphraseVariable, BackupPassphraseEnvOption, "Backup passphrase", confirm: true);
            using MpcSignerClient client = CommonOptions.Client(parse, server, token, DeviceProfileCli.For(opened.Path, opened.Protection, verbose: false));
            using MpcKey key = client.OpenKey(opened.Share);
            bool written = false;
            try
            {
                // The backup file is written before the server keeps its half, so a lost reply never leaves a
                // server-side backup without its file; a refused confirmation removes the file again.
                using ClientKeyShare backup = await client.CreateBackupAsync(key, parse.GetValue(label)!, (share, _) =>
                {
                    WriteBackup(outPath, share, opened.Info.UserId, backupPassphrase);
                    written = true;
                    return ValueTask.CompletedTask;
                }, cancellationToken);
                Console.Error.WriteLine($"Backup {backup.DeviceId} of key {backup.KeyId} written to {outPath}. Keep it offline; the server never sees it. It restores once (mpc restore).");
                Console.WriteLine($"Backup id: {backup.DeviceId}");
            }
            catch (MpcRefreshOutcomeUnknownException e)
            {
                e.PendingShare?.Dispose();
                throw new CliException($"{e.Message}; {outPath} is kept: if mpc device list shows the backup, it is good, otherwise delete it", CliExit.OutcomeUnknown);
            }
            catch (MpcSignerException) when (written)
            {
                // A refusal that proves the server kept nothing: the file would restore nothing.
                SecretFile.Delete(outPath);
                throw;
            }
            return 0;
        }));
        return command;
    }

    public static Command Restore()
    {
        Option<string?> server = CommonOptions.Server(), token = CommonOptions.Token(), passphraseEnv = CommonOptions.PassphraseEnv();
        Option<bool> unprotected = CommonOptions.StoreUnprotected();
        var input = new Option<string>("--in") { Description = "Backup file (from mpc backup)", Required = true };
        var backupEnv = BackupPassphraseEnv();
        var output = new Option<string>("--out") { Description = "Key file to write for this device", Required = true };
        var label = new Option<string>("--label") { Description = "A name for this device", DefaultValueFactory = _ => "" };
        var command = new Command("restore",
            "Restore a backup onto this device: a refresh gives the device its own share pair, and the backup is used up.")
        {
            server, token, input, backupEnv, output, label, passphraseEnv, unprotected,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            using KeyFileLock held = KeyFileLocks.LockNew(parse.GetValue(output)!);
            string outPath = held.KeyFile;
            byte[] file = await File.ReadAllBytesAsync(parse.GetValue(input)!, cancellationToken);
            ClientShareBackup.ReadIdentity(file); // a file of the wrong kind is named before the passphrase is asked for
            string backupPassphrase = CommonOptions.Secret(parse.GetValue(backupEnv), BackupPassphraseVariable, BackupPassphraseEnvOption, "Backup passphrase", confirm: false);
            // Only the authenticated header is used: the user it names goes into the new key file.
            ClientKeyShare backup = OpenBackup(file, backupPassphrase, out BackupIdentity header);
            KeyFileProtection protection = CommonOptions.Protection(parse.GetValue(passphraseEnv), parse.GetValue(unprotected), confirm: true);
            using MpcSignerClient client = CommonOptions.Client(parse, server, token, DeviceProfileCli.For(outPath, protection, verbose: false));
            await DeviceProfileCli.PrepareAsync(client, verbose: false, cancellationToken);
            Console.Error.WriteLine($"Restoring backup {header.DeviceId} of key {header.KeyId} (a few seconds)...");
            using (backup)
            using (MpcKey restored = await PendingRefresh.RunAsync(client, held, header.UserId, protection,
                save => client.RestoreBackupAsync(backup, parse.GetValue(label)!, save, cancellationToken), cancellationToken))
            {
                Console.Error.WriteLine($"Restored to device {restored.Share.DeviceId}; {outPath} holds its share. The backup is now used up: run mpc backup to make a new one.");
                Console.WriteLine($"Device id: {restored.Share.DeviceId}");
            }
            return 0;
        }));
        return command;
    }

    public static Command Passphrase()
    {
        var keyFile = new Option<string?>("--key") { Description = "A key file whose passphrase to change" };
        var backupFile = new Option<string?>("--backup") { Description = "A backup file whose passphrase to change" };
        var oldEnv = new Option<string?>("--old-env") { Description = "Environment variable holding the current passphrase (otherwise a prompt)" };
        var newEnv = new Option<string?>("--new-env") { Description = "Environment variable holding the new passphrase (otherwise a prompt)" };
        var command = new Command("passphrase", $"Re-wrap a key file or a backup under a new passphrase (new salt, new nonce); the device profile beside a key file ({DeviceProfileCli.FileName}) too, if it opens with the old one.") { keyFile, backupFile, oldEnv, newEnv };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(parse, async () =>
        {
            string? key = parse.GetValue(keyFile), backup = parse.GetValue(backupFile);
            if ((key is null) == (backup is null))
            {
                throw CliException.Usage("give exactly one of --key FILE or --backup FILE");
            }
            string oldPassphrase = CommonOptions.Secret(parse.GetValue(oldEnv), "MPC_OLD_PASSPHRASE", "--old-env", "Current passphrase", confirm: false);
            string newPassphrase = CommonOptions.Secret(parse.GetValue(newEnv), "MPC_NEW_PASSPHRASE", "--new-env", "New passphrase", confirm: true);
            if (key is not null)
            {
                // A refresh meanwhile would be undone by the re-wrapped old share, which the server no longer holds.
                using KeyFileLock held = KeyFileLocks.LockExisting(key);
                ClientKeyFile.ChangePassphrase(key, KeyFileProtection.Passphrase(oldPassphrase), KeyFileProtection.Passphrase(newPassphrase));
                Console.Error.WriteLine($"{key} re-wrapped under the new passphrase.");
                // Same share, new wrapping: an old copy of the file still opens with the old passphrase and still signs.
                Console.Error.WriteLine($"Copies of the old file (backups, synced folders) still open with the old passphrase and sign; if it may be known, run `mpc refresh --key {key}` so they stop working.");
                await DeviceProfileCli.ResealBeside(key, oldPassphrase, newPassphrase, cancellationToken);
            }
            else
            {
                using KeyFileLock held = KeyFileLocks.LockExistingBackup(backup!);
                byte[] rewrapped = ClientShareBackup.ChangePassphrase(File.ReadAllBytes(backup!), oldPassphrase, newPassphrase);
                SecretFile.WriteAtomically(backup!, rewrapped);
                Console.Error.WriteLine($"{backup} re-wrapped under the new passphrase.");
                Console.Error.WriteLine("Copies of the old file still open with the old passphrase and restore; if it may be known, make a new backup and revoke this one (`mpc device revoke`).");
            }
            return 0;
        }));
        return command;
    }

    private static Option<string?> BackupPassphraseEnv() =>
        new(BackupPassphraseEnvOption) { Description = $"Environment variable holding the backup passphrase (default {BackupPassphraseVariable}; otherwise a prompt)" };

    private static string ImportPassword(string? variable)
    {
        string name = variable ?? ImportPasswordVariable;
        string? value = Environment.GetEnvironmentVariable(name);
        if (variable is not null && value is null)
        {
            throw CliException.LocalInput($"environment variable {variable} (named by --password-env) is not set: export it, or leave out --password-env for an unencrypted file");
        }
        return value ?? "";
    }

    private static ImportedKey ReadKey(string path, string password)
    {
        byte[] file = File.ReadAllBytes(path);
        try
        {
            return ImportedKeyReader.Read(file, password, Path.GetFileName(path));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(file);
        }
    }

    private static ClientKeyShare OpenBackup(byte[] file, string passphrase, out BackupIdentity identity)
    {
        byte[] secret = ClientShareBackup.Open(file, passphrase, out identity);
        try
        {
            ClientKeyShare share = ClientShareSecret.Import(secret);
            if (share.KeyId != identity.KeyId || share.DeviceId != identity.DeviceId || share.Curve != identity.Curve
                || !share.EncodedPublicKey.AsSpan().SequenceEqual(identity.PublicKey))
            {
                share.Dispose();
                throw CliException.VerificationFailed("the backup's share does not match its header; the file is not usable: use another backup or device");
            }
            return share;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private static void WriteBackup(string path, ClientKeyShare share, string userId, string passphrase)
    {
        byte[] secret = share.ExportSecret();
        try
        {
            // Before the server keeps its half: a refusal here means the server is never asked to, so no backup exists.
            WriteNew(path, ClientShareBackup.Seal(secret,
                new BackupIdentity(userId, share.KeyId, share.DeviceId, share.Curve, share.EncodedPublicKey, DateTimeOffset.UtcNow), passphrase),
                "no backup was made (the server was not asked to keep its half)");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>The path, when nothing is there yet: no command overwrites a file.</summary>
    internal static string RequireNew(string path) =>
        File.Exists(path) ? throw CliException.LocalInput($"{path} exists; choose another path (nothing is overwritten)") : path;

    /// <summary>
    /// Writes the secret file a command creates (backup, pending enrolment, handover) only while its name is still free
    /// (<see cref="SecretFile.WriteNew"/>): <see cref="RequireNew"/> looked at the start, and a file that appeared since
    /// (another program, a copy) may be the only one of its kind, so it is never replaced. Its content is worth nothing
    /// yet (nothing was confirmed, shown or sent), so none of it is kept; <paramref name="undone"/> says that in the error.
    /// </summary>
    internal static void WriteNew(string path, ReadOnlySpan<byte> contents, string undone)
    {
        if (!SecretFile.WriteNew(path, contents))
        {
            throw CliException.LocalInput($"{path} appeared while this command ran and is left as it is; {undone}: run the command again with another path");
        }
    }
}
