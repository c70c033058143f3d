using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Server;

namespace Mpc.Cli;

/// <summary>
/// `mpc load`: simulated users signing concurrently through the SDK, for a bounded time. Reports
/// throughput, latency percentiles, errors by status code and (for a spawned server) the server's CPU
/// time per signature, and writes the result as JSON.
/// </summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        var server = new Option<string[]>("--server") { Description = "Server URL; repeat it or give a comma-separated list for a cluster (users are spread round-robin)" };
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
        var embedded = new Option<bool>("--embedded") { Description = "Start 'mpc server' as a child process on a free loopback port with a temporary data directory, and load it" };
        var command = new Command("load", "Load test: N simulated users sign random digests concurrently for a fixed time.")
        {
            server, token, data, users, duration, warmup, curve, output, embedded, precompute,
        };
        command.SetAction((parse, cancellationToken) => CliErrors.Run(async () =>
        {
            var options = new LoadOptions
            {
                Servers = ParseServers(parse.GetValue(server)),
                Token = parse.GetValue(token) is { } tokenFile ? CommonOptions.TokenValue(tokenFile) : null,
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
            LoadRunner.PrintSummary(result, Console.Out);
            if (parse.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, LoadRunner.ToJson(result), CancellationToken.None);
                Console.WriteLine($"Result written to {file.FullName}");
            }
            return result.Signatures > 0 ? 0 : 1;
        }));
        return command;
    }

    private static IReadOnlyList<Uri> ParseServers(string[]? values)
    {
        IEnumerable<string> raw = values is { Length: > 0 }
            ? values
            : Environment.GetEnvironmentVariable(CommonOptions.ServerVariable) is { Length: > 0 } fromEnvironment ? [fromEnvironment] : [];
        return [.. raw.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(v => CommonOptions.ServerUrl(v))];
    }

    /// <summary>"30s", "500ms", "2m", "1h" or a TimeSpan ("00:00:30").</summary>
    private static TimeSpan ParseDuration(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value.Trim() : "";
        if (TryParseDuration(text, out TimeSpan value))
        {
            return value;
        }
        result.AddError($"'{text}' is not a duration: use e.g. 30s, 500ms, 2m or 00:00:30");
        return TimeSpan.Zero;
    }

    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        (string suffix, double scale)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        foreach ((string suffix, double scale) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^suffix.Length], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double number)
                && number >= 0)
            {
                value = TimeSpan.FromSeconds(number * scale);
                return true;
            }
        }
        return TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
    }
}

/// <summary>What `mpc load` runs.</summary>
internal sealed class LoadOptions
{
    public IReadOnlyList<Uri> Servers { get; init; } = [];

    public string? Token { get; init; }

    public string? DataDirectory { get; init; }

    public int Users { get; init; } = 16;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    public CurveKind Curve { get; init; } = CurveKind.P256;

    public bool Embedded { get; init; }

    /// <summary>Randomness values each client prepares before measurement; 0 leaves the SDK default.</summary>
    public int Precompute { get; init; }

    /// <summary>The `mpc` program to spawn for <see cref="Embedded"/>; default: the one running now.</summary>
    public string? MpcDll { get; init; }

    /// <summary>Progress-line interval.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>Runs the load and computes the result; separate from the command so tests can call it.</summary>
internal static class LoadRunner
{
    /// <summary>How long in-flight signatures may finish after the run stops (duration reached or Ctrl+C).</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(1);

    public static async Task<LoadResult> RunAsync(LoadOptions options, TextWriter progress, CancellationToken cancellationToken)
    {
        Validate(options);
        DateTimeOffset startedAt = DateTimeOffset.UtcNow;
        await using EmbeddedServer? embedded = options.Embedded ? await EmbeddedServer.StartAsync(options.MpcDll, progress, cancellationToken) : null;
        IReadOnlyList<Uri> servers = embedded is not null ? [embedded.Address] : options.Servers;
        string? dataDirectory = embedded?.DataDirectory ?? options.DataDirectory;

        progress.WriteLine($"Creating {options.Users} key(s) on {EcCurve.NameOf(options.Curve)} across {servers.Count} server(s)...");
        var setupClock = Stopwatch.StartNew();
        using RingPedersenSecret ringPedersen = RingPedersenSecret.Generate(BigNumBackends.Default);
        var users = new SimulatedUser[options.Users];
        try
        {
            using (DevelopmentTokens? tokens = dataDirectory is not null && options.Token is null ? DevelopmentTokens.Open(dataDirectory, create: false) : null)
            {
                for (int i = 0; i < users.Length; i++)
                {
                    string token = tokens?.Mint($"load-user-{i + 1:D3}", options.Warmup + options.Duration + TimeSpan.FromHours(1)) ?? options.Token!;
                    var clientOptions = new MpcSignerClientOptions { RingPedersen = ringPedersen };
                    if (options.Precompute > 0)
                    {
                        clientOptions.PrecomputedRandomness = options.Precompute;
                    }
                    var client = new MpcSignerClient(servers[i % servers.Count], token, clientOptions);
                    users[i] = new SimulatedUser(client);
                }
            }
            // Key generation is CPU-heavy on both sides: a few at a time keeps the server responsive.
            using var gate = new SemaphoreSlim(Math.Max(1, Environment.ProcessorCount));
            await Task.WhenAll(users.Select(async user =>
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    user.Key = await user.Client.CreateKeyAsync(options.Curve, cancellationToken);
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
                while (users.Any(u => u.Key!.PreparedRandomness < options.Precompute))
                {
                    int ready = users.Sum(u => Math.Min(u.Key!.PreparedRandomness, options.Precompute));
                    progress.WriteLine($"Precomputing client randomness: {ready}/{options.Precompute * users.Length} ({precomputeClock.Elapsed.TotalSeconds:F0} s)");
                    await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
                }
            }
            progress.WriteLine($"Keys ready in {setupClock.Elapsed.TotalSeconds:F1} s. Warm-up {options.Warmup.TotalSeconds:F0} s, then {options.Duration.TotalSeconds:F0} s measured, {options.Users} concurrent user(s).");
            return await MeasureAsync(options, servers, users, embedded, startedAt, progress, cancellationToken);
        }
        finally
        {
            foreach (SimulatedUser? user in users)
            {
                user?.Dispose();
            }
        }
    }

    private static void Validate(LoadOptions options)
    {
        if (options.Users is < 1 or > 10_000)
        {
            throw new CliException("--users must be between 1 and 10000");
        }
        if (options.Duration <= TimeSpan.Zero)
        {
            throw new CliException("--duration must be positive");
        }
        if (options.Warmup < TimeSpan.Zero)
        {
            throw new CliException("--warmup must not be negative");
        }
        if (options.Embedded)
        {
            if (options.Servers.Count > 0 || options.Token is not null || options.DataDirectory is not null)
            {
                throw new CliException("--embedded starts its own server: leave out --server, --token-file and --data");
            }
            return;
        }
        if (options.Servers.Count == 0)
        {
            throw new CliException($"no server given: use --server URL (or ${CommonOptions.ServerVariable}), or --embedded");
        }
        if ((options.Token is null) == (options.DataDirectory is null))
        {
            throw new CliException("give either --token-file FILE (one user for all) or --data DIR (a development token per user)");
        }
    }

    private static async Task<LoadResult> MeasureAsync(
        LoadOptions options, IReadOnlyList<Uri> servers, SimulatedUser[] users, EmbeddedServer? embedded, DateTimeOffset startedAt, TextWriter progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan measureFrom = options.Warmup;
        TimeSpan end = options.Warmup + options.Duration;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(end);
        // Cancels signatures still in flight a moment after the stop, so Ctrl+C is prompt even against a stuck server.
        using var abandon = new CancellationTokenSource();
        using CancellationTokenRegistration drain = stop.Token.Register(() => abandon.CancelAfter(DrainTimeout));
        var counters = new Counters();

        Task[] loops = [.. users.Select(user => Task.Run(() => user.RunAsync(options.Curve, clock, measureFrom, counters, stop.Token, abandon.Token), CancellationToken.None))];
        Task all = Task.WhenAll(loops);

        CpuSample? serverFrom = null;
        CpuSample? serverLast = null;
        TimeSpan clientCpuFrom = TimeSpan.Zero;
        DateTimeOffset measuredFromAt = startedAt;
        long lastCount = 0;
        TimeSpan lastTick = TimeSpan.Zero;
        bool measuring = false;
        while (!all.IsCompleted)
        {
            TimeSpan nextTick = lastTick + options.ProgressInterval;
            TimeSpan wait = !measuring && measureFrom < nextTick ? measureFrom - clock.Elapsed : nextTick - clock.Elapsed;
            await Task.WhenAny(all, Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, CancellationToken.None));
            TimeSpan now = clock.Elapsed;
            if (!measuring && now >= measureFrom)
            {
                measuring = true;
                measuredFromAt = DateTimeOffset.UtcNow;
                clientCpuFrom = Environment.CpuUsage.TotalTime;
                serverFrom = embedded?.Sample(counters.Measured);
            }
            if (measuring && embedded?.Sample(counters.Measured) is { } sample)
            {
                serverLast = sample;
            }
            if (now >= nextTick && !all.IsCompleted)
            {
                long total = counters.Total;
                double rate = (total - lastCount) / (now - lastTick).TotalSeconds;
                progress.WriteLine(FormattableString.Invariant(
                    $"[{now.TotalSeconds,6:F1} s] {(measuring ? "measuring" : "warm-up  ")}  signatures {total,7}  rate {rate,7:F1}/s  errors {counters.Errors}"));
                (lastCount, lastTick) = (total, now);
            }
        }
        await all;
        TimeSpan stoppedAt = clock.Elapsed;
        TimeSpan clientCpu = Environment.CpuUsage.TotalTime - clientCpuFrom;
        if (measuring && embedded?.Sample(counters.Measured) is { } final)
        {
            serverLast = final;
        }

        double[] latencies = [.. users.SelectMany(u => u.Latencies)];
        Array.Sort(latencies);
        // The floor F, measured now that the load has stopped, on the same machine as the server's CPU time.
        double floorMs = CostFloor.MeasureOnce().TotalMilliseconds;
        double measuredSeconds = measuring ? Math.Max(0.001, (stoppedAt - measureFrom).TotalSeconds) : 0;
        double? serverCpuPerSignature = null;
        string serverCpuNote;
        if (embedded is null)
        {
            serverCpuNote = "unavailable: the servers are remote (CPU time is measured only for the server --embedded spawns)";
        }
        else if (serverFrom is not { } from || serverLast is not { } last || last.Signatures <= from.Signatures)
        {
            serverCpuNote = "unavailable: no signatures completed while the server process was sampled";
        }
        else
        {
            serverCpuPerSignature = (last.Cpu - from.Cpu).TotalMilliseconds / (last.Signatures - from.Signatures);
            serverCpuNote = $"CPU time of the spawned 'mpc server' process (pid {embedded.ProcessId}) over the measured window, divided by the signatures completed in it";
        }

        return new LoadResult
        {
            Machine = MachineInfo.Current(),
            Parameters = new LoadParameters
            {
                Servers = [.. servers.Select(s => s.ToString())],
                Embedded = options.Embedded,
                Users = options.Users,
                Curve = EcCurve.NameOf(options.Curve),
                DurationSeconds = options.Duration.TotalSeconds,
                WarmupSeconds = options.Warmup.TotalSeconds,
                PrecomputedRandomness = options.Precompute > 0 ? options.Precompute : new MpcSignerClientOptions().PrecomputedRandomness,
                TokenPerUser = options.Token is null,
            },
            StartedAt = startedAt,
            MeasuredFrom = measuredFromAt,
            FinishedAt = DateTimeOffset.UtcNow,
            StoppedEarly = cancellationToken.IsCancellationRequested,
            MeasuredSeconds = measuredSeconds,
            Signatures = latencies.Length,
            ThroughputPerSecond = measuredSeconds > 0 ? latencies.Length / measuredSeconds : 0,
            LatencyMs = LatencySummary.From(latencies),
            Errors = counters.ErrorsByCode(),
            ServerCpuMsPerSignature = serverCpuPerSignature,
            ServerCpuNote = serverCpuNote,
            FloorMs = floorMs,
            ServerCpuPerSignatureOverFloor = serverCpuPerSignature / floorMs,
            ClientCpuMsPerSignature = latencies.Length > 0 ? clientCpu.TotalMilliseconds / latencies.Length : null,
        };
    }

    public static void PrintSummary(LoadResult result, TextWriter output)
    {
        LoadParameters p = result.Parameters;
        LatencySummary l = result.LatencyMs;
        string errors = result.Errors.Count == 0 ? "none" : string.Join(", ", result.Errors.Select(e => $"{e.Key} {e.Value}"));
        string serverCpu = result.ServerCpuMsPerSignature is { } cpu ? FormattableString.Invariant($"{cpu:F2} ms") : "n/a (" + result.ServerCpuNote + ")";
        string clientCpu = result.ClientCpuMsPerSignature is { } client ? FormattableString.Invariant($"{client:F2} ms") : "n/a";
        var rows = new (string Name, string Value)[]
        {
            ("servers", string.Join(", ", p.Servers) + (p.Embedded ? " (embedded, spawned)" : "")),
            ("curve / users", $"{p.Curve} / {p.Users}{(p.TokenPerUser ? "" : " (one shared token)")}"),
            ("machine", $"{result.Machine.ProcessorCount} cores, {result.Machine.Os}, {result.Machine.DotNet}, {result.Machine.BigNumBackend}"),
            ("measured", FormattableString.Invariant($"{result.MeasuredSeconds:F1} s after {p.WarmupSeconds:F0} s warm-up{(result.StoppedEarly ? " (stopped early)" : "")}")),
            ("signatures", result.Signatures.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("throughput", FormattableString.Invariant($"{result.ThroughputPerSecond:F1} signatures/s")),
            ("latency p50", FormattableString.Invariant($"{l.P50:F2} ms")),
            ("latency p95", FormattableString.Invariant($"{l.P95:F2} ms")),
            ("latency p99", FormattableString.Invariant($"{l.P99:F2} ms")),
            ("latency max", FormattableString.Invariant($"{l.Max:F2} ms")),
            ("errors", errors),
            ("server CPU / signature", serverCpu),
            ("floor F", FormattableString.Invariant($"{result.FloorMs:F2} ms (half an RSA-4096 signature, measured after the run)")),
            ("server CPU / F", result.ServerCpuPerSignatureOverFloor is { } ratio ? FormattableString.Invariant($"{ratio:F2}") : "n/a"),
            ("client CPU / signature", clientCpu + " (this process: all simulated users)"),
        };
        int width = rows.Max(r => r.Name.Length);
        foreach ((string name, string value) in rows)
        {
            output.WriteLine($"  {name.PadRight(width)}  {value}");
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string ToJson(LoadResult result) => JsonSerializer.Serialize(result, JsonOptions);

    public static LoadResult FromJson(string json) =>
        JsonSerializer.Deserialize<LoadResult>(json, JsonOptions) ?? throw new FormatException("empty load result");

    private readonly record struct CpuSample(TimeSpan Cpu, long Signatures);

    /// <summary>Signature and error counts shared by the simulated users.</summary>
    private sealed class Counters
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _errors = new(StringComparer.Ordinal);
        private long _total;
        private long _measured;
        private long _errorCount;

        public long Total => Interlocked.Read(ref _total);

        public long Measured => Interlocked.Read(ref _measured);

        public long Errors => Interlocked.Read(ref _errorCount);

        public void Signed(bool measured)
        {
            Interlocked.Increment(ref _total);
            if (measured)
            {
                Interlocked.Increment(ref _measured);
            }
        }

        public void Failed(string code)
        {
            Interlocked.Increment(ref _errorCount);
            _errors.AddOrUpdate(code, 1, (_, n) => n + 1);
        }

        public SortedDictionary<string, int> ErrorsByCode() => new(_errors, StringComparer.Ordinal);
    }

    /// <summary>One user: its own client (token, channel) and key, signing in a loop.</summary>
    private sealed class SimulatedUser(MpcSignerClient client) : IDisposable
    {
        public MpcSignerClient Client { get; } = client;

        public MpcKey? Key { get; set; }

        public List<double> Latencies { get; } = new(4096);

        public async Task RunAsync(CurveKind curve, Stopwatch clock, TimeSpan measureFrom, Counters counters, CancellationToken stop, CancellationToken abandon)
        {
            int digestLength = EcCurve.Get(curve).ScalarLength;
            byte[] digest = new byte[digestLength];
            while (!stop.IsCancellationRequested)
            {
                RandomNumberGenerator.Fill(digest);
                TimeSpan started = clock.Elapsed;
                try
                {
                    await Client.SignDigestAsync(Key!, digest, cancellationToken: abandon);
                    bool measured = started >= measureFrom;
                    if (measured)
                    {
                        Latencies.Add((clock.Elapsed - started).TotalMilliseconds);
                    }
                    counters.Signed(measured);
                }
                catch (OperationCanceledException) when (abandon.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (ErrorCode(e) is { } code)
                {
                    if (stop.IsCancellationRequested)
                    {
                        // Failures while stopping (Ctrl+C also stops a spawned server) are not the server's errors.
                        return;
                    }
                    counters.Failed(code);
                    // A failing server answers fast: do not spin on it.
                    await Task.Delay(TimeSpan.FromMilliseconds(20), CancellationToken.None);
                }
            }
        }

        private static string? ErrorCode(Exception e) => e switch
        {
            MpcSignerException signer => signer.Status.ToString(),
            RpcException rpc => rpc.StatusCode.ToString(),
            HttpRequestException => StatusCode.Unavailable.ToString(),
            Crypto.MpcProtocolException protocol => "Protocol:" + protocol.Code,
            _ => null,
        };

        public void Dispose()
        {
            Key?.Dispose();
            Client.Dispose();
        }
    }

    /// <summary>
    /// `mpc server` as a child process on a free loopback port with a temporary data directory. A separate
    /// process, so that its CPU time is the server's alone and not shared with the simulated clients.
    /// </summary>
    private sealed class EmbeddedServer : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _root;

        private EmbeddedServer(Process process, string root)
        {
            _process = process;
            _root = root;
        }

        public Uri Address { get; private set; } = null!;

        public string DataDirectory => Path.Combine(_root, "data");

        public int ProcessId => _process.Id;

        public static async Task<EmbeddedServer> StartAsync(string? mpcDll, TextWriter progress, CancellationToken cancellationToken)
        {
            string dll = mpcDll ?? typeof(LoadCommand).Assembly.Location;
            if (!File.Exists(dll))
            {
                throw new CliException($"cannot find the mpc program to spawn ({dll})");
            }
            string root = Directory.CreateTempSubdirectory("mpc-load-").FullName;
            string data = Path.Combine(root, "data");
            var start = new ProcessStartInfo(DotnetHost(), [dll, "server", "--urls", "http://127.0.0.1:0", "--data", data])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            progress.WriteLine("Starting 'mpc server' as a child process...");
            Process process = Process.Start(start) ?? throw new CliException("could not start 'mpc server'");
            var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
            var errors = new System.Text.StringBuilder();
            process.OutputDataReceived += (_, e) =>
            {
                const string Prefix = "mpc server listening on ";
                if (e.Data is { } line && line.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    listening.TrySetResult(new Uri(line[Prefix.Length..].Split(',')[0].Trim().Split(' ')[0]));
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { } line)
                {
                    lock (errors)
                    {
                        errors.AppendLine(line);
                    }
                }
            };
            process.EnableRaisingEvents = true;
            process.Exited += (_, _) => listening.TrySetException(new CliException("'mpc server' exited during start-up: " + errors.ToString().Trim()));
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new EmbeddedServer(process, root);
            try
            {
                server.Address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
                return server;
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        /// <summary>The child's CPU time now, with the signature count it goes with; null once it has exited.</summary>
        public CpuSample? Sample(long signatures)
        {
            try
            {
                _process.Refresh();
                return _process.HasExited ? null : new CpuSample(_process.TotalProcessorTime, signatures);
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }

        private static string DotnetHost()
        {
            string? current = Environment.ProcessPath;
            return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync(CancellationToken.None);
                }
            }
            catch (InvalidOperationException)
            {
            }
            _process.Dispose();
            foreach (string directory in new[] { _root, DataDirectory + "-kek" })
            {
                try
                {
                    Directory.Delete(directory, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }
}

/// <summary>The JSON result of `mpc load`.</summary>
internal sealed class LoadResult
{
    public MachineInfo Machine { get; init; } = new();

    public LoadParameters Parameters { get; init; } = new();

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset MeasuredFrom { get; init; }

    public DateTimeOffset FinishedAt { get; init; }

    public bool StoppedEarly { get; init; }

    public double MeasuredSeconds { get; init; }

    /// <summary>Signatures started after the warm-up and completed.</summary>
    public long Signatures { get; init; }

    public double ThroughputPerSecond { get; init; }

    public LatencySummary LatencyMs { get; init; } = new();

    /// <summary>Failed signatures (warm-up included) by gRPC status code.</summary>
    public SortedDictionary<string, int> Errors { get; init; } = [];

    public double? ServerCpuMsPerSignature { get; init; }

    public string ServerCpuNote { get; init; } = "";

    /// <summary>The cost floor F (half an RSA-4096 private-key signature, <see cref="CostFloor"/>) in milliseconds.</summary>
    public double FloorMs { get; init; }

    /// <summary>Server CPU per signature divided by F: the machine-independent figure the speed targets use.</summary>
    public double? ServerCpuPerSignatureOverFloor { get; init; }

    /// <summary>CPU time of the load process (all simulated users' P2 work) per signature.</summary>
    public double? ClientCpuMsPerSignature { get; init; }
}

internal sealed class LoadParameters
{
    public List<string> Servers { get; init; } = [];

    public bool Embedded { get; init; }

    public int Users { get; init; }

    public string Curve { get; init; } = "";

    public double DurationSeconds { get; init; }

    public double WarmupSeconds { get; init; }

    public int PrecomputedRandomness { get; init; }

    public bool TokenPerUser { get; init; }
}

/// <summary>Per-signature latency in milliseconds; percentiles by nearest rank.</summary>
internal sealed class LatencySummary
{
    public double Min { get; init; }

    public double Mean { get; init; }

    public double P50 { get; init; }

    public double P95 { get; init; }

    public double P99 { get; init; }

    public double Max { get; init; }

    public static LatencySummary From(double[] sorted) => sorted.Length == 0 ? new LatencySummary() : new LatencySummary
    {
        Min = sorted[0],
        Mean = sorted.Average(),
        P50 = Percentile(sorted, 0.50),
        P95 = Percentile(sorted, 0.95),
        P99 = Percentile(sorted, 0.99),
        Max = sorted[^1],
    };

    private static double Percentile(double[] sorted, double fraction) =>
        sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];
}

internal sealed class MachineInfo
{
    public int ProcessorCount { get; init; }

    public string Cpu { get; init; } = "";

    public string Os { get; init; } = "";

    public string Architecture { get; init; } = "";

    public string DotNet { get; init; } = "";

    public string BigNumBackend { get; init; } = "";

    public static MachineInfo Current() => new()
    {
        ProcessorCount = Environment.ProcessorCount,
        Cpu = CpuModel(),
        Os = RuntimeInformation.OSDescription,
        Architecture = RuntimeInformation.OSArchitecture.ToString(),
        DotNet = RuntimeInformation.FrameworkDescription,
        BigNumBackend = BigNumBackends.Default.Name,
    };

    private static string CpuModel()
    {
        try
        {
            return File.Exists("/proc/cpuinfo")
                ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? ""
                : "";
        }
        catch (IOException)
        {
            return "";
        }
    }
}
