using System.Collections.Immutable;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Mpc.Server;

/// <summary>
/// gRPC-Web for browser clients, for the Signer and SignerAdmin services only, behind CORS limited to
/// <see cref="WebOptions.AllowedOrigins"/>; the bearer tokens are the same. A request whose Origin header names any
/// other origin is refused with 403 before authentication, so neither a browser nor a script replaying a page's
/// request from elsewhere gets an answer. docs/service.md ("gRPC-Web and browsers") has the details.
/// </summary>
public static class GrpcWebSetup
{
    /// <summary>The CORS policy the gRPC-Web endpoints require.</summary>
    public const string CorsPolicy = "mpc-web";

    /// <summary>How long a browser may cache a preflight answer, so that not every call costs two round trips.</summary>
    public static readonly TimeSpan PreflightMaxAge = TimeSpan.FromMinutes(10);

    /// <summary>Request headers a gRPC-Web client sends beyond the CORS-safelisted ones.</summary>
    public static readonly ImmutableArray<string> AllowedRequestHeaders =
        ["authorization", "content-type", "x-grpc-web", "x-user-agent", "grpc-timeout", "grpc-accept-encoding"];

    /// <summary>
    /// Response headers a page's script must be able to read: the gRPC status (in headers on a trailers-only answer)
    /// and the bearer challenge that says why a token was refused.
    /// </summary>
    public static readonly ImmutableArray<string> ExposedResponseHeaders =
        ["grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-encoding", "grpc-accept-encoding", "www-authenticate"];

    /// <summary>
    /// HTTP/1.1 and HTTP/2 on the web port (browsers speak gRPC-Web over HTTP/1.1 in plain text, HTTP/2 only after TLS
    /// negotiation); the other ports keep their protocols.
    /// </summary>
    public static HttpProtocols Protocols(ListenOptions endpoint, HttpProtocols otherwise, WebOptions web) =>
        web.Port is { } port && endpoint.IPEndPoint?.Port == port ? HttpProtocols.Http1AndHttp2 : otherwise;

    /// <summary>The listen URLs with, when gRPC-Web is on, each distinct scheme and host of the gRPC URLs at the web port.</summary>
    public static string ListenUrls(string listenUrls, string grpcUrls, WebOptions web) =>
        WebOrigins.From(web).IsEnabled ? ServerPorts.AddBesideGrpc(listenUrls, grpcUrls, web.Port) : listenUrls;

    /// <summary>
    /// The web port's rule: set exactly when origins are, in range, with a TCP gRPC URL to take the host from, and none of
    /// the gRPC ports, the metrics port and the silo port (<see cref="ServerPorts"/>).
    /// </summary>
    internal static bool IsPortValid(MpcServerOptions options)
    {
        if (!WebOrigins.TryParse(options.Web.AllowedOrigins, out WebOrigins origins))
        {
            return true; // the origins' own rule reports them; one problem, one line
        }
        bool enabled = origins.IsEnabled;
        if (options.Web.Port is not { } port)
        {
            return !enabled;
        }
        return enabled && ServerPorts.IsOwnPort(options, port, options.Metrics.Port);
    }

    /// <summary>Registers gRPC-Web and the CORS policy (none when gRPC-Web is off).</summary>
    public static IServiceCollection AddMpcGrpcWeb(this IServiceCollection services, WebOptions web)
    {
        WebOrigins origins = WebOrigins.From(web);
        if (origins.IsEnabled)
        {
            services.AddCors(cors => cors.AddPolicy(CorsPolicy, policy => policy
                .WithOrigins([.. origins.Origins])
                .WithMethods(HttpMethods.Post)
                .WithHeaders([.. AllowedRequestHeaders])
                .WithExposedHeaders([.. ExposedResponseHeaders])
                .SetPreflightMaxAge(PreflightMaxAge)));
        }
        return services;
    }

    /// <summary>
    /// The refusal of other origins, then gRPC-Web and CORS. Goes before authentication: a preflight carries no token,
    /// and a refused origin is refused whatever its token.
    /// </summary>
    public static WebApplication UseMpcGrpcWeb(this WebApplication app, WebOptions web)
    {
        WebOrigins origins = WebOrigins.From(web);
        app.Use((context, next) =>
        {
            // Native gRPC clients send no Origin; a browser sends one on every cross-origin call and preflight.
            if (context.Request.Headers.Origin is { Count: > 0 } origin && !origins.Allows(origin.ToString()))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            }
            return next(context);
        });
        if (origins.IsEnabled)
        {
            app.UseMpcExampleSite(web); // static files need no token: before authentication, after the origin check
            app.UseGrpcWeb();
            app.UseCors();
        }
        return app;
    }

    /// <summary>Serves one gRPC service over gRPC-Web too (when it is on), under the CORS policy.</summary>
    public static GrpcServiceEndpointConventionBuilder WithMpcGrpcWeb(this GrpcServiceEndpointConventionBuilder service, WebOptions web)
    {
        if (WebOrigins.From(web).IsEnabled)
        {
            service.EnableGrpcWeb().RequireCors(CorsPolicy);
        }
        return service;
    }
}
