using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Mpc.Grains.Sealing;
using Mpc.Server;

namespace Mpc.Cli;

/// <summary>`mpc server` and `mpc token`: the embedded server and its development tokens.</summary>
internal static class ServerCommands
{
    public const string DefaultDataDirectory = "mpc-data";

    public static Command Server()
    {
        var urls = new Option<string?>("--urls") { Description = "Where to listen, HTTP/2 (default http://127.0.0.1:7443, or Mpc__Urls)" };
        var data = new Option<string?>("--data") { Description = $"Data directory (default {DefaultDataDirectory}, or Mpc__DataDirectory)" };
        var masterKeyDir = new Option<string?>("--master-key-dir") { Description = "Directory for the master key (default: <data>-kek, beside the data directory, never inside it)" };
        var kek = new Option<string?>("--kek") { Description = "Master key provider: file (default; master.key beside the data) or pkcs11 (a key inside an HSM); or Mpc__KeyEncryption__Provider" };
        kek.AcceptOnlyFromAmong(KeyEncryptionOptions.FileProvider, KeyEncryptionOptions.Pkcs11Provider);
        var pkcs11Library = new Option<string?>("--pkcs11-library") { Description = "PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so" };
        var pkcs11Token = new Option<string?>("--pkcs11-token") { Description = "Label of the token holding the master key" };
        var pkcs11KeyLabel = new Option<string?>("--pkcs11-key-label") { Description = $"Label of the master key in the token (default {Pkcs11Options.DefaultKeyLabel})" };
        var pkcs11PinFile = new Option<string?>("--pkcs11-pin-file") { Description = $"File holding the token's user PIN (mode 600); without it the PIN comes from ${Pkcs11ServerOptions.DefaultPinEnvironmentVariable}" };
        var pkcs11CreateKey = new Option<bool>("--pkcs11-create-key") { Description = "Generate the master key in the token if it is missing (first set-up)" };
        var command = new Command("server", "Run the signing server: gRPC and an Orleans silo in one process. Settings also come from Mpc__* environment variables (docs/operations.md); options given here win.")
        {
            urls, data, masterKeyDir, kek, pkcs11Library, pkcs11Token, pkcs11KeyLabel, pkcs11PinFile, pkcs11CreateKey,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(async () =>
        {
            var options = new MpcServerOptions { DataDirectory = DefaultDataDirectory };
            new ConfigurationBuilder().AddEnvironmentVariables().Build().GetSection("Mpc").Bind(options);
            options.Urls = parse.GetValue(urls) ?? options.Urls;
            options.DataDirectory = parse.GetValue(data) ?? options.DataDirectory;
            options.MasterKeyDirectory = parse.GetValue(masterKeyDir) ?? options.MasterKeyDirectory;
            options.KeyEncryption.Provider = parse.GetValue(kek) ?? options.KeyEncryption.Provider;
            Pkcs11ServerOptions pkcs11 = options.KeyEncryption.Pkcs11;
            pkcs11.LibraryPath = parse.GetValue(pkcs11Library) ?? pkcs11.LibraryPath;
            pkcs11.TokenLabel = parse.GetValue(pkcs11Token) ?? pkcs11.TokenLabel;
            pkcs11.KeyLabel = parse.GetValue(pkcs11KeyLabel) ?? pkcs11.KeyLabel;
            pkcs11.PinFile = parse.GetValue(pkcs11PinFile) ?? pkcs11.PinFile;
            pkcs11.CreateKeyIfMissing |= parse.GetValue(pkcs11CreateKey);
            WebApplication built;
            try
            {
                built = MpcServerHost.Build(options);
            }
            catch (InvalidOperationException e)
            {
                // Configuration the server refuses at start-up (no PIN, no token label, master key inside the data).
                throw new CliException(e.Message);
            }
            await using WebApplication app = built;
            await app.StartAsync(cancellationToken);
            Console.WriteLine($"mpc server listening on {string.Join(", ", app.Urls)} ({options.Cluster.Mode} mode)");
            Console.WriteLine($"  data:       {Path.GetFullPath(options.DataDirectory)}");
            if (options.KeyEncryption.Provider == KeyEncryptionOptions.Pkcs11Provider)
            {
                string kekId = app.Services.GetRequiredService<IKeyEncryptionKeyProvider>().KeyId;
                Console.WriteLine($"  master key: {kekId} (inside the PKCS#11 token)");
            }
            else
            {
                Console.WriteLine($"  master key: {options.ResolvedMasterKeyDirectory} (keep it off the data directory's backups)");
            }
            Console.WriteLine($"Tokens for this server: mpc token --data {options.DataDirectory} --user NAME");
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        }));
        return command;
    }

    public static Command Token()
    {
        var data = new Option<string>("--data") { Description = "The server's data directory", DefaultValueFactory = _ => DefaultDataDirectory };
        var user = new Option<string>("--user") { Description = "The user the token is for (its subject)", Required = true };
        var lifetime = new Option<TimeSpan>("--lifetime") { Description = "Validity, e.g. 12:00:00", DefaultValueFactory = _ => TimeSpan.FromHours(12) };
        var admin = new Option<bool>("--admin") { Description = "Add the operator scope (mpc.admin) for mpc admin commands" };
        var command = new Command("token", "Print a development bearer token for a user of the embedded server.") { data, user, lifetime, admin };
        command.SetAction((parse, _) => CliErrors.Run(() =>
        {
            string name = parse.GetValue(user)!;
            if (string.IsNullOrWhiteSpace(name) || name.Length > 128)
            {
                throw new CliException("--user must be 1 to 128 characters");
            }
            using DevelopmentTokens tokens = DevelopmentTokens.Open(parse.GetValue(data)!, create: false);
            Console.WriteLine(tokens.Mint(name, parse.GetValue(lifetime), admin: parse.GetValue(admin)));
            return Task.FromResult(0);
        }));
        return command;
    }
}
