using System.Net;
using System.Net.Sockets;
using Mpc.Server;
using Xunit.Abstractions;

namespace Mpc.Server.Tests.Operations;

/// <summary>The /metrics scrape endpoint (Mpc__Metrics__Port): what a Prometheus server gets from a running signer.</summary>
[Collection("scraped")]
public sealed class PrometheusEndpointTests(ScrapedServer scraped, ITestOutputHelper output)
{
    [Fact]
    public void A_scrape_after_signing_holds_signer_orleans_and_runtime_series()
    {
        output.WriteLine(string.Join('\n', scraped.SeriesNames.Order(StringComparer.Ordinal)));
        // The signer's own meter, with its key-independent tags.
        Assert.Matches(@"(?m)^mpc_signatures_total\{[^}]*curve=""secp256k1""[^}]*\} [1-9]", scraped.Scrape);
        Assert.Matches(@"(?m)^mpc_sign_failures_total\{[^}]*reason=""not_found""[^}]*\} [1-9]", scraped.Scrape);
        Assert.Matches(@"(?m)^mpc_keys_frozen_total(\{[^}]*\})? [1-9]", scraped.Scrape);
        Assert.Contains("mpc_sign_duration_milliseconds_bucket", scraped.SeriesNames);
        // Orleans' meter: grain activations.
        Assert.Contains(scraped.SeriesNames, name => name.StartsWith("orleans_catalog_activation", StringComparison.Ordinal));
        // The runtime's System.Runtime meter.
        Assert.Contains(scraped.SeriesNames, name => name.StartsWith("dotnet_gc_", StringComparison.Ordinal));
        // No series names a user or a key.
        Assert.DoesNotContain(ScrapedServer.User, scraped.Scrape, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_metrics_port_serves_only_metrics_and_takes_no_token()
    {
        using var http = new HttpClient();
        using HttpResponseMessage metrics = await http.GetAsync(scraped.MetricsAddress);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);

        using HttpResponseMessage other = await http.GetAsync(new Uri(scraped.MetricsAddress, "/grpc.health.v1.Health/Check"));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);

        // The gRPC port does not serve the scrape (HTTP/2, as gRPC clients speak).
        using var grpcPort = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using HttpResponseMessage onGrpcPort = await grpcPort.GetAsync(new Uri(scraped.Server.Address, MetricsOptions.Path));
        Assert.NotEqual(HttpStatusCode.OK, onGrpcPort.StatusCode);
    }

    [Fact]
    public void A_metrics_port_that_is_the_grpc_port_is_refused_before_the_data_directory_is_made()
    {
        using var root = new TempDirectory("mpc-metrics-port-");
        string dataDirectory = Path.Combine(root.Path, "data");
        var options = new MpcServerOptions { DataDirectory = dataDirectory, Urls = "http://127.0.0.1:7443", Metrics = { Port = 7443 } };

        ServerStartupException refused = Assert.Throws<ServerStartupException>(() => MpcServerHost.Build(options));

        Assert.StartsWith($"setting {MetricsOptions.PortSetting}='7443' is not allowed", refused.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dataDirectory));
    }
}
