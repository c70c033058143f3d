using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Mpc.Grains.Sealing;

namespace Mpc.Server.Host;

/// <summary>`mpc-server [options]`: runs the signing server (gRPC and an Orleans silo in one process) until stopped.</summary>
internal static class ServerCommand
{
    public const string DefaultDataDirectory = "mpc-data";

    /// <summary>The first line on stdout once the server listens; `mpc demo`, `mpc-load --embedded` and the tests wait for it.</summary>
    public const string ListeningPrefix = "mpc-server listening on ";

    public static RootCommand Create()
    {
        var urls = new Option<string?>("--urls") { Description = "Where to listen, HTTP/2 (default http://127.0.0.1:7443, or Mpc__Urls)" };
        var data = new Option<string?>("--data") { Description = $"Data directory (default {DefaultDataDirectory}, or Mpc__DataDirectory)" };
        var masterKeyDir = new Option<string?>("--master-key-dir") { Description = "Directory for the master key (default: <data>-kek, beside the data directory, never inside it)" };
        var kek = new Option<string?>("--kek") { Description = "Master key provider: file (default; master.key beside the data) or pkcs11 (a key inside an HSM); or Mpc__KeyEncryption__Provider" };
        kek.AcceptOnlyFromAmong(KeyEncryptionOptions.FileProvider, KeyEncryptionOptions.Pkcs11Provider);
        var pkcs11Library = new Option<string?>("--pkcs11-library") { Description = "PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so" };
        var pkcs11Token = new Option<string?>("--pkcs11-token") { Description = "Label of the token holding the master key" };
        var pkcs11KeyLabel = new Option<string?>("--pkcs11-key-label") { Description = $"Label of the master key in the token (default {Pkcs11Options.DefaultKeyLabel})" };
        var pkcs11PinFile = new Option<string?>("--pkcs11-pin-file") { Description = $"File holding the token's user PIN, mode 0600 or 0400 (0640 or 0440 when the file's group is one the server runs in, as with a Kubernetes fsGroup); without it the PIN comes from ${Pkcs11ServerOptions.DefaultPinEnvironmentVariable}" };
        var pkcs11CreateKey = new Option<bool>("--pkcs11-create-key") { Description = "Generate the master key in the token if it is missing (first set-up)" };
        var command = new RootCommand("mpc-server: the mpc-signer signing server, gRPC and an Orleans silo in one process. Settings come from appsettings.json beside the program, Mpc__* environment variables and --Mpc:Section:Name=value arguments (docs/operations.md); the options here win.")
        {
            urls, data, masterKeyDir, kek, pkcs11Library, pkcs11Token, pkcs11KeyLabel, pkcs11PinFile, pkcs11CreateKey,
        };
        // Extra tokens are configuration arguments (--Mpc:Signer:MaxSignaturesPerKey=100), checked below.
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, cancellationToken) => StartupErrors.Run(async () =>
        {
            var arguments = new List<string>(ConfigurationArguments(parse.UnmatchedTokens));
            void Set(string key, string? value)
            {
                if (value is not null)
                {
                    arguments.Add($"--{ServerSettings.Section}:{key}={value}");
                }
            }
            Set("Urls", parse.GetValue(urls));
            Set("DataDirectory", parse.GetValue(data));
            Set("MasterKeyDirectory", parse.GetValue(masterKeyDir));
            Set("KeyEncryption:Provider", parse.GetValue(kek));
            Set("KeyEncryption:Pkcs11:LibraryPath", parse.GetValue(pkcs11Library));
            Set("KeyEncryption:Pkcs11:TokenLabel", parse.GetValue(pkcs11Token));
            Set("KeyEncryption:Pkcs11:KeyLabel", parse.GetValue(pkcs11KeyLabel));
            Set("KeyEncryption:Pkcs11:PinFile", parse.GetValue(pkcs11PinFile));
            Set("KeyEncryption:Pkcs11:CreateKeyIfMissing", parse.GetValue(pkcs11CreateKey) ? "true" : null);
            return await RunAsync([.. arguments], cancellationToken);
        }));
        return command;
    }

    private static async Task<int> RunAsync(string[] arguments, CancellationToken cancellationToken)
    {
        WebApplication built;
        try
        {
            built = MpcServerHost.BuildFromConfiguration(arguments);
        }
        catch (InvalidOperationException e)
        {
            // A setting the server refuses (one line each), a port or data directory in use, a PKCS#11 setting
            // missing: nothing has started, and nothing here needs a stack trace.
            return StartupErrors.Refuse(e.Message, e is ServerStartupException { Reason: ServerStartupReason.InUse } ? ServerExit.LocalResource : ServerExit.Usage);
        }
        await using WebApplication app = built;
        MpcServerOptions options = app.Services.GetRequiredService<MpcServerOptions>();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception e) when (MpcServerHost.DescribeStartFailure(e) is { } message)
        {
            return StartupErrors.Refuse(message, ServerExit.LocalResource);
        }
        Console.WriteLine($"{ListeningPrefix}{string.Join(", ", app.Urls)} ({options.Cluster.Mode} mode)");
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
        Console.WriteLine($"Tokens for this server: mpc-server token --data {options.DataDirectory} --user NAME");
        await app.WaitForShutdownAsync(cancellationToken);
        return (int)ServerExit.Ok;
    }

    /// <summary>
    /// The tokens System.CommandLine did not match: configuration arguments in the host's command-line syntax,
    /// <c>--Mpc:Section:Name=value</c>. Anything else (a misspelt option) is a usage error, not a silently ignored key.
    /// </summary>
    internal static IReadOnlyList<string> ConfigurationArguments(IReadOnlyList<string> unmatched)
    {
        string prefix = $"--{ServerSettings.Section}:";
        foreach (string token in unmatched)
        {
            if (!token.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || !token.Contains('=', StringComparison.Ordinal))
            {
                throw new UsageException(
                    $"unknown option or argument '{token}' for mpc-server: settings on the command line take the form {prefix}Section:Name=value (docs/operations.md)");
            }
        }
        return unmatched;
    }
}
