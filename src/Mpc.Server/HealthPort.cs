using Grpc.Health.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Mpc.Server;

/// <summary>
/// The probe port (<see cref="HealthOptions.Port"/>): plain h2c on each host of the gRPC URLs, where only the gRPC
/// health service answers. It is not signing traffic: neither the plain-http rule nor its warning counts it.
/// </summary>
internal static class HealthPort
{
    private static readonly PathString HealthService = "/" + Health.Descriptor.FullName;

    /// <summary>The listen URLs with, when a probe port is set, http:// at that port on each distinct host of the gRPC URLs.</summary>
    // Always http: the kubelet's gRPC probe speaks h2c only, and the port carries nothing a probe does not ask for.
    public static string ListenUrls(string listenUrls, string grpcUrls, HealthOptions health) =>
        ServerPorts.AddBesideGrpc(listenUrls, grpcUrls, health.Port, Uri.UriSchemeHttp);

    /// <summary>
    /// The probe port's rule: unset, or in range, with a TCP gRPC URL to take the host from, and none of the other
    /// ports the server opens (gRPC, metrics, gRPC-Web, silo).
    /// </summary>
    internal static bool IsPortValid(MpcServerOptions options) =>
        options.Health.Port is not { } port || ServerPorts.IsOwnPort(options, port, options.Metrics.Port, options.Web.Port);

    /// <summary>
    /// On the probe port, grpc.health.v1.Health answers and every other path is 404 (a gRPC client reads Unimplemented).
    /// Goes before gRPC-Web and authentication: a probe carries no token, and nothing else may be reached there.
    /// </summary>
    public static void RestrictToHealth(WebApplication app, HealthOptions health)
    {
        if (health.Port is not { } port)
        {
            return;
        }
        app.Use((context, next) =>
        {
            if (context.Connection.LocalPort == port && !context.Request.Path.StartsWithSegments(HealthService))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return next(context);
        });
    }
}
