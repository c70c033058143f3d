using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
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
        var command = new Command("server", "Run the signing server: gRPC and an Orleans silo in one process. Settings also come from Mpc__* environment variables (docs/operations.md).")
        {
            urls, data, masterKeyDir,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(async () =>
        {
            var options = new MpcServerOptions { DataDirectory = DefaultDataDirectory };
            new ConfigurationBuilder().AddEnvironmentVariables().Build().GetSection("Mpc").Bind(options);
            options.Urls = parse.GetValue(urls) ?? options.Urls;
            options.DataDirectory = parse.GetValue(data) ?? options.DataDirectory;
            options.MasterKeyDirectory = parse.GetValue(masterKeyDir) ?? options.MasterKeyDirectory;
            await using WebApplication app = MpcServerHost.Build(options);
            await app.StartAsync(cancellationToken);
            Console.WriteLine($"mpc server listening on {string.Join(", ", app.Urls)} ({options.Cluster.Mode} mode)");
            Console.WriteLine($"  data:       {Path.GetFullPath(options.DataDirectory)}");
            Console.WriteLine($"  master key: {options.ResolvedMasterKeyDirectory} (keep it off the data directory's backups)");
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
        var command = new Command("token", "Print a development bearer token for a user of the embedded server.") { data, user, lifetime };
        command.SetAction((parse, _) => CliErrors.Run(() =>
        {
            string name = parse.GetValue(user)!;
            if (string.IsNullOrWhiteSpace(name) || name.Length > 128)
            {
                throw new CliException("--user must be 1 to 128 characters");
            }
            using DevelopmentTokens tokens = DevelopmentTokens.Open(parse.GetValue(data)!, create: false);
            Console.WriteLine(tokens.Mint(name, parse.GetValue(lifetime)));
            return Task.FromResult(0);
        }));
        return command;
    }
}
