using System.Diagnostics;
using Mpc.Cli;
using Mpc.Client;
using Mpc.Client.DeviceProfiles;
using Mpc.Crypto.Curves;
using Mpc.Server;

namespace Mpc.LoadTest;

/// <summary>Sets up the simulated users (and the spawned server for --embedded), then measures; tests call it directly.</summary>
internal static class LoadRunner
{
    public static async Task<LoadResult> RunAsync(LoadOptions options, TextWriter progress, CancellationToken cancellationToken)
    {
        options.Validate();
        ServerProgram? program = options.Embedded ? ServerProcess.Locate() : null;
        DateTimeOffset startedAt = DateTimeOffset.UtcNow;
        string? root = options.Embedded ? Directory.CreateTempSubdirectory("mpc-load-").FullName : null;
        try
        {
            ServerProcess? embedded = null;
            if (root is not null)
            {
                progress.WriteLine("Starting mpc-server as a child process...");
                embedded = await ServerProcess.StartAsync(program!, Path.Combine(root, "data"), cancellationToken);
            }
            await using (embedded)
            {
                IReadOnlyList<Uri> servers = embedded is not null ? [embedded.Address] : options.Servers;
                string? dataDirectory = embedded?.DataDirectory ?? options.DataDirectory;
                return await RunAgainstAsync(options, servers, dataDirectory, embedded, startedAt, progress, cancellationToken);
            }
        }
        finally
        {
            if (root is not null)
            {
                DeleteQuietly(root);
            }
        }
    }

    private static async Task<LoadResult> RunAgainstAsync(
        LoadOptions options, IReadOnlyList<Uri> servers, string? dataDirectory, ServerProcess? embedded, DateTimeOffset startedAt,
        TextWriter progress, CancellationToken cancellationToken)
    {
        progress.WriteLine($"Creating {options.Users} key(s) on {EcCurve.NameOf(options.Curve)} across {servers.Count} server(s)...");
        var setupClock = Stopwatch.StartNew();
        // One device profile for every simulated user (made once: safe primes are slow), as the old shared parameters were.
        using DeviceProfile device = DeviceProfile.Create("mpc-load");
        using var deviceProfiles = new InMemoryDeviceProfileStore(device);
        var users = new SimulatedUser[options.Users];
        try
        {
            using (DevelopmentTokens? tokens = dataDirectory is not null && options.Token is null ? DevelopmentTokens.Open(dataDirectory, create: false) : null)
            {
                for (int i = 0; i < users.Length; i++)
                {
                    string token = tokens?.Mint($"load-user-{i + 1:D3}", options.Warmup + options.Duration + TimeSpan.FromHours(1)) ?? options.Token!;
                    var clientOptions = new MpcSignerClientOptions { DeviceProfileStore = deviceProfiles };
                    if (options.Precompute > 0)
                    {
                        clientOptions.PrecomputedRandomness = options.Precompute;
                    }
                    users[i] = new SimulatedUser(new MpcSignerClient(servers[i % servers.Count], token, clientOptions));
                }
            }
            // Key generation is CPU-heavy on both sides: a few at a time keeps the server responsive.
            using var gate = new SemaphoreSlim(Math.Max(1, Environment.ProcessorCount));
            await Task.WhenAll(users.Select(async user =>
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    await user.CreateKeyAsync(options.Curve, cancellationToken);
                }
                finally
                {
                    gate.Release();
                }
            }));
            if (options.Precompute > 0)
            {
                // Client devices prepare r^N mod N² in idle time; here every simulated device does it before the clock starts.
                var precomputeClock = Stopwatch.StartNew();
                while (users.Any(u => u.PreparedRandomness < options.Precompute))
                {
                    int ready = users.Sum(u => Math.Min(u.PreparedRandomness, options.Precompute));
                    progress.WriteLine($"Precomputing client randomness: {ready}/{options.Precompute * users.Length} ({precomputeClock.Elapsed.TotalSeconds:F0} s)");
                    await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
                }
            }
            progress.WriteLine($"Keys ready in {setupClock.Elapsed.TotalSeconds:F1} s. Warm-up {options.Warmup.TotalSeconds:F0} s, then {options.Duration.TotalSeconds:F0} s measured, {options.Users} concurrent user(s).");
            LoadMeasurement measurement = await LoadMeasurement.RunAsync(options, users, embedded, progress, cancellationToken);
            return LoadResult.From(options, servers, embedded, measurement, startedAt, cancellationToken.IsCancellationRequested);
        }
        finally
        {
            foreach (SimulatedUser? user in users)
            {
                user?.Dispose();
            }
        }
    }

    private static void DeleteQuietly(string root)
    {
        // The data directory and, beside it, its master key directory (<data>-kek) both live under the root.
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
