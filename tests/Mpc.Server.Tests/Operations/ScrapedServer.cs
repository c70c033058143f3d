using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Orleans;

namespace Mpc.Server.Tests.Operations;

/// <summary>
/// A running server with its Prometheus endpoint on, after real work: signatures on two curves, a refusal (an
/// unknown signing session, not_found) and a freeze (a stored final-check marker whose re-run fails); then one scrape.
/// </summary>
public sealed class ScrapedServer : IAsyncLifetime
{
    public const string User = "scraped-user";

    public ScrapedServer()
    {
        MetricsPort = ClusterPorts.Free();
        Server = new ServerFixture { ConfigureOptions = options => options.Metrics.Port = MetricsPort };
    }

    public ServerFixture Server { get; }

    public int MetricsPort { get; }

    public Uri MetricsAddress => new($"http://127.0.0.1:{MetricsPort}/metrics");

    /// <summary>The text of one scrape taken after the work above.</summary>
    public string Scrape { get; private set; } = "";

    /// <summary>The metric names (series names before any label) in <see cref="Scrape"/>.</summary>
    public IReadOnlySet<string> SeriesNames { get; private set; } = new HashSet<string>();

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        using (MpcSignerClient client = Server.Client(User))
        {
            using MpcKey secp256k1 = await client.CreateKeyAsync(CurveKind.Secp256k1);
            using MpcKey p256 = await client.CreateKeyAsync(CurveKind.P256);
            await client.SignDigestAsync(secp256k1, RandomNumberGenerator.GetBytes(32));
            await client.SignDigestAsync(p256, RandomNumberGenerator.GetBytes(32));

            using RawSigner raw = Server.Raw(Server.Token(User));
            StatusCode unknownSession = await RawSigner.StatusOf(async () => await raw.Client.SignFinishAsync(new Transport.V1.SignFinishRequest
            {
                KeyId = secp256k1.KeyId,
                SessionId = Google.Protobuf.ByteString.CopyFrom(new byte[16]),
                Ciphertext = Google.Protobuf.ByteString.CopyFrom([1]),
            }, raw.Headers));
            Assert.Equal(StatusCode.NotFound, unknownSession);

            await FreezeAsync(client, p256);
        }
        using var http = new HttpClient();
        Scrape = await http.GetStringAsync(MetricsAddress);
        SeriesNames = Scrape.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line[..line.IndexOfAny(['{', ' '])])
            .ToHashSet(StringComparer.Ordinal);
    }

    public Task DisposeAsync() => Server.DisposeAsync();

    /// <summary>Freezes the key the way an interrupted, failing final check does (FreezeDurabilityTests has the details).</summary>
    private async Task FreezeAsync(MpcSignerClient client, MpcKey key)
    {
        // Let the idle clear of the earlier markers run, and deactivate the grain, so the planted marker is the only writer.
        await FinalCheckMarkers.ClearedAsync(Server.DataDirectory, User, key.KeyId);
        await Server.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        PendingFinalCheck marker = FinalCheckMarkers.For(key, passing: false);
        await FinalCheckMarkers.AuthenticateAsync(Server.DataDirectory, Server.MasterKeyDirectory, User, key.KeyId, marker);
        await FinalCheckMarkers.PlantAsync(Server.DataDirectory, User, key.KeyId, marker);
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(StatusCode.FailedPrecondition, refused.Status);
        Assert.True((await client.GetKeyAsync(key.KeyId)).Frozen);
    }
}

/// <summary>One scraped server for the metrics and dashboard tests (its set-up signs, refuses and freezes).</summary>
[CollectionDefinition("scraped")]
public sealed class ScrapedCollection : ICollectionFixture<ScrapedServer>;
