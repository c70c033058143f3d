using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Mpc.Grains.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Mpc.Server;

/// <summary>
/// OpenTelemetry wiring: the signer's, Orleans' and the .NET runtime's meters, exported over OTLP (when
/// OTEL_EXPORTER_OTLP_ENDPOINT is set) and to Prometheus (when <see cref="MetricsOptions.Port"/> is set), and
/// ASP.NET Core/gRPC and Orleans traces over OTLP. With neither set, nothing is collected and nothing dials out.
/// </summary>
internal static class ServerTelemetry
{
    /// <summary>Orleans' own meter (activations, messaging, storage latency).</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>The runtime's built-in meter (.NET 9 and later: GC, heap, thread pool, exceptions); no package needed.</summary>
    public const string RuntimeMeterName = "System.Runtime";

    public static void Configure(WebApplicationBuilder builder, MetricsOptions metrics)
    {
        bool otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        bool prometheus = metrics.Port is not null;
        if (!otlp && !prometheus)
        {
            return;
        }
        OpenTelemetry.OpenTelemetryBuilder telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("mpc-signer"))
            .WithMetrics(meters =>
            {
                meters
                    .AddMeter(SignerMetrics.MeterName, OrleansMeterName, RuntimeMeterName)
                    .AddAspNetCoreInstrumentation();
                if (prometheus)
                {
                    meters.AddPrometheusExporter();
                }
                if (otlp)
                {
                    meters.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .AddOtlpExporter());
        }
    }

    /// <summary>The URLs Kestrel listens on: the gRPC URLs, then, with a metrics port, each distinct scheme and host of the TCP ones at that port.</summary>
    public static string ListenUrls(string grpcUrls, MetricsOptions metrics) => ServerPorts.AddBesideGrpc(grpcUrls, grpcUrls, metrics.Port);

    /// <summary>
    /// The metrics port's rule: unset, or in range, with a TCP gRPC URL to take the host from, and neither a gRPC port
    /// (which speaks HTTP/2 only) nor the silo port. The gRPC-Web and probe ports' rules name the metrics port.
    /// </summary>
    internal static bool IsPortValid(MpcServerOptions options) =>
        options.Metrics.Port is not { } port || ServerPorts.IsOwnPort(options, port);

    /// <summary>HTTP/1.1 on the metrics port (what Prometheus speaks), HTTP/2 (gRPC) everywhere else.</summary>
    public static HttpProtocols ProtocolsFor(ListenOptions endpoint, MetricsOptions metrics) =>
        metrics.Port is { } port && endpoint.IPEndPoint?.Port == port ? HttpProtocols.Http1 : HttpProtocols.Http2;

    /// <summary>
    /// On the metrics port, <see cref="MetricsOptions.Path"/> answers the scrape and every other path 404; nothing
    /// else (gRPC, health, reflection) is reachable there. Goes before authentication: the endpoint takes no token.
    /// </summary>
    public static void MapScrapeEndpoint(WebApplication app, MetricsOptions metrics)
    {
        if (metrics.Port is not { } port)
        {
            return;
        }
        app.MapWhen(context => context.Connection.LocalPort == port, scrape =>
        {
            scrape.UseOpenTelemetryPrometheusScrapingEndpoint(MetricsOptions.Path);
            scrape.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        });
    }
}
