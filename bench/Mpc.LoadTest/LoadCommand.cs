using System.CommandLine;
using Mpc.Cli;
using Mpc.Crypto.Curves;

namespace Mpc.LoadTest;

/// <summary>
/// `mpc-load`: simulated users signing concurrently through the SDK, for a bounded time. Reports throughput, latency
/// percentiles, errors by status code and (for a spawned server) the server's CPU time per signature, and writes the
/// result as JSON.
/// </summary>
internal static class LoadCommand
{
    public const string ServerVariable = "MPC_SERVER";

    public static RootCommand Create()
    {
        var server = new Option<string[]>("--server") { Description = $"Server URL; repeat it or give a comma-separated list for a cluster (users are spread round-robin); default ${ServerVariable}" };
        var token = new Option<string?>("--token-file") { Description = "File holding one bearer token for every simulated user (they then share one user's grain)" };
        var data = new Option<string?>("--data") { Description = "The server's data directory: mint a development token per simulated user" };
        var users = new Option<int>("--users") { Description = "Concurrent simulated users", DefaultValueFactory = _ => 16 };
        var duration = new Option<TimeSpan>("--duration") { Description = "Measured time after the warm-up, e.g. 30s, 2m or 00:00:30", DefaultValueFactory = _ => TimeSpan.FromSeconds(30), CustomParser = ParseDuration };
        var warmup = new Option<TimeSpan>("--warmup") { Description = "Signing before measurement starts (not counted)", DefaultValueFactory = _ => TimeSpan.FromSeconds(5), CustomParser = ParseDuration };
        var curve = new Option<string>("--curve") { Description = "secp256k1, p256 or p384", DefaultValueFactory = _ => "p256" };
        var output = new Option<FileInfo?>("--out") { Description = "Write the result as JSON to this file" };
        var precompute = new Option<int>("--precompute")
        {
            Description = "Paillier randomness values each simulated client prepares BEFORE the clock starts, as client devices do in idle time "
                + "(default 0: only the SDK's small background pool). The server's work is the same either way.",
        };
        var embedded = new Option<bool>("--embedded") { Description = $"Start mpc-server (beside this program, or ${ServerProcess.PathVariable}) as a child process on a free loopback port with a temporary data directory, and load it" };
        var command = new RootCommand("mpc-load: N simulated users sign random digests concurrently for a fixed time.")
        {
            server, token, data, users, duration, warmup, curve, output, embedded, precompute,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var options = new LoadOptions
                {
                    Servers = ParseServers(parse.GetValue(server)),
                    Token = parse.GetValue(token) is { } tokenFile ? ReadToken(tokenFile) : null,
                    DataDirectory = parse.GetValue(data),
                    Users = parse.GetValue(users),
                    Duration = parse.GetValue(duration),
                    Warmup = parse.GetValue(warmup),
                    Curve = EcCurve.Parse(parse.GetValue(curve)!),
                    Embedded = parse.GetValue(embedded),
                    Precompute = parse.GetValue(precompute),
                };
                LoadResult result = await LoadRunner.RunAsync(options, Console.Out, cancellationToken);
                Console.WriteLine();
                LoadReport.PrintSummary(result, Console.Out);
                if (parse.GetValue(output) is { } file)
                {
                    await File.WriteAllTextAsync(file.FullName, LoadReport.ToJson(result), CancellationToken.None);
                    Console.WriteLine($"Result written to {file.FullName}");
                }
                return result.Signatures > 0 ? 0 : 1;
            }
            catch (Exception e) when (e is LoadSetupException or ServerProcessException or ArgumentException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("error: cancelled");
                return 130;
            }
        });
        return command;
    }

    private static string ReadToken(string tokenFile) =>
        File.ReadAllText(tokenFile).Trim() is { Length: > 0 } token ? token : throw new LoadSetupException($"{tokenFile} holds no token");

    private static List<Uri> ParseServers(string[]? values)
    {
        IEnumerable<string> raw = values is { Length: > 0 }
            ? values
            : Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } fromEnvironment ? [fromEnvironment] : [];
        return [.. raw.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(ServerUrl)];
    }

    private static Uri ServerUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new LoadSetupException($"'{url}' is not an http(s) URL: give --server as https://HOST:PORT or http://127.0.0.1:PORT");

    private static TimeSpan ParseDuration(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value.Trim() : "";
        if (Durations.TryParse(text, out TimeSpan value))
        {
            return value;
        }
        result.AddError($"'{text}' is not a duration: use e.g. 30s, 500ms, 2m or 00:00:30");
        return TimeSpan.Zero;
    }
}

/// <summary>A load run that cannot start as asked (options that exclude each other, no server); one line, exit code 2.</summary>
internal sealed class LoadSetupException(string message) : Exception(message);
