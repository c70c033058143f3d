using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mpc.Client;
using Mpc.Client.DeviceProfiles;
using Mpc.Client.Diagnostics;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;

namespace Mpc.Server.Tests.Sdk;

/// <summary>
/// The SDK's traces and logs: one activity per operation with a child per server call, tagged with key id, curve and
/// outcome; and a keygen, sign and refresh logged at every level (the SDK's, gRPC's and IHttpClientFactory's
/// loggers, through AddMpcSigner) without the share, the bearer token or the device profile's passphrase.
/// </summary>
[Collection("server")]
public sealed class ClientTelemetryTests(ServerFixture server)
{
    private const string User = "telemetry-user";

    [Fact]
    public async Task Keygen_and_sign_are_activities_with_one_child_per_server_call_and_a_failed_sign_says_so()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MpcClientDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        using MpcSignerClient client = server.Client(User);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P384);
        await client.SignDigestAsync(key, new byte[48]);
        await Assert.ThrowsAnyAsync<Exception>(() => client.SignDigestAsync(key, new byte[20]));

        Activity[] mine = [.. stopped.Where(a => (string?)a.GetTagItem(MpcClientDiagnostics.KeyIdTag) == key.KeyId)];
        Activity keygen = Assert.Single(mine, a => a.OperationName == "mpc.keygen");
        Assert.Equal("P-384", keygen.GetTagItem(MpcClientDiagnostics.CurveTag));
        Assert.Equal("ok", keygen.GetTagItem(MpcClientDiagnostics.OutcomeTag));
        Assert.Equal(ActivityStatusCode.Ok, keygen.Status);
        Assert.Equal(["mpc.rpc CompleteKeyGen", "mpc.rpc ConfirmKeyGen"], ChildrenOf(keygen, mine));

        Activity[] signs = [.. mine.Where(a => a.OperationName == "mpc.sign")];
        Assert.Equal(2, signs.Length);
        Activity signed = Assert.Single(signs, a => (string?)a.GetTagItem(MpcClientDiagnostics.OutcomeTag) == "ok");
        Assert.Equal("P-384", signed.GetTagItem(MpcClientDiagnostics.CurveTag));
        // Key generation left no commitment, so this signature takes all three round trips.
        Assert.Equal(["mpc.rpc BeginSign", "mpc.rpc SignNonce", "mpc.rpc SignFinish"], ChildrenOf(signed, mine));
        Assert.All(mine.Where(a => a.ParentSpanId == signed.SpanId), rpc => Assert.Equal("OK", rpc.GetTagItem(MpcClientDiagnostics.StatusCodeTag)));
        Activity failed = Assert.Single(signs, a => (string?)a.GetTagItem(MpcClientDiagnostics.OutcomeTag) == "failed");
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
    }

    [Fact]
    public async Task Keygen_sign_and_refresh_log_ids_and_timings_but_never_the_share_token_or_passphrase()
    {
        using var files = new TempDirectory();
        const string passphrase = "correct horse battery staple 7f3a";
        const string deviceId = "telemetry-device";
        string profilePath = Path.Combine(files.Path, "device.profile");
        // The fixture's parameters, sealed as this device's profile (making new ones takes seconds).
        await new DeviceProfileFile(profilePath, deviceId, KeyFileProtection.Passphrase(passphrase))
            .SaveAsync(DeviceProfile.From(deviceId, server.RingPedersen, DateTimeOffset.UtcNow), CancellationToken.None);
        string token = server.Token(User);
        var logged = new ConcurrentQueue<string>();

        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(new CapturingProvider(logged)).SetMinimumLevel(LogLevel.Trace));
        services.AddMpcSigner(o =>
        {
            o.Address = server.Address;
            o.Token = token;
            o.DeviceProfilePath = profilePath;
            o.DeviceProfilePassphrase = passphrase;
            o.DeviceId = deviceId;
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        MpcSignerClient client = provider.GetRequiredService<MpcSignerClient>();

        using MpcKey key = await client.CreateKeyAsync(CurveKind.Secp256k1);
        await client.SignDigestAsync(key, new byte[32]);
        using MpcKey refreshed = await client.RefreshKeyAsync(key);
        await client.SignDigestAsync(refreshed, new byte[32]);

        string[] lines = [.. logged];
        Assert.Contains(lines, line => line.Contains($"keygen of key {key.KeyId} (secp256k1) succeeded", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains($"SignFinish for key {key.KeyId}: OK", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains($"refresh of key {key.KeyId} (secp256k1) succeeded", StringComparison.Ordinal));
        string[] secrets =
        [
            token, passphrase,
            key.Share.X2.ToString(16), key.Share.X2.ToString(16).ToUpperInvariant(), key.Share.X2.ToString(),
            refreshed.Share.X2.ToString(16), refreshed.Share.X2.ToString(),
            Convert.ToBase64String(key.Share.X2.ToByteArrayUnsigned()),
        ];
        foreach (string secret in secrets)
        {
            Assert.DoesNotContain(lines, line => line.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
        // The token's signature alone (its last part) must not appear either, nor the bearer header.
        Assert.DoesNotContain(lines, line => line.Contains(token.Split('.')[^1], StringComparison.Ordinal));
    }

    private static string[] ChildrenOf(Activity parent, IEnumerable<Activity> all) =>
        [.. all.Where(a => a.ParentSpanId == parent.SpanId).OrderBy(a => a.StartTimeUtc).Select(a => a.OperationName)];

    /// <summary>Every message at every level, with its structured values and any exception, as one line each.</summary>
    private sealed class CapturingProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull
            {
                lines.Enqueue($"{category} scope: {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                string values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                lines.Enqueue($"{category} {logLevel}: {formatter(state, exception)} [{values}] {exception}");
            }
        }
    }
}
