using Grpc.AspNetCore.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Mpc.Transport.V1;

namespace Mpc.Server;

/// <summary>
/// The names the gRPC health service (grpc.health.v1.Health) answers, and the checks behind each. Every name
/// answers SERVING or NOT_SERVING, never UNKNOWN: a kubelet gRPC probe passes only on SERVING.
/// </summary>
public static class ServerHealth
{
    /// <summary>SERVING whenever the process runs: no check touches the silo, storage or a grain.</summary>
    public const string Liveness = "liveness";

    /// <summary>SERVING while the silo is active and grain storage answers a read; also answered as "" and as each service's name.</summary>
    public const string Readiness = "readiness";

    private const string LiveTag = "live";
    private const string ReadyTag = "ready";

    /// <summary>The names that follow readiness: the server as a whole ("") and each gRPC service it hosts.</summary>
    public static IReadOnlyList<string> ReadinessNames { get; } =
        ["", Readiness, Signer.Descriptor.FullName, SignerAdmin.Descriptor.FullName];

    /// <summary>Every name the health service answers.</summary>
    public static IReadOnlyList<string> ServiceNames { get; } = [.. ReadinessNames, Liveness];

    internal static void AddServerHealthChecks(this IServiceCollection services)
    {
        services.AddGrpcHealthChecks(health =>
            {
                // Answer live (no cache); a Check call runs only the checks its name maps to.
                health.UseHealthChecksCache = false;
                health.Services.Clear();
                foreach (string name in ReadinessNames)
                {
                    health.Services.Map(name, check => check.Tags.Contains(ReadyTag));
                }
                // One check that always passes, so liveness is SERVING rather than UNKNOWN (a name no check maps to).
                health.Services.Map(Liveness, check => check.Tags.Contains(LiveTag));
            })
            .AddCheck("process", () => HealthCheckResult.Healthy("The process is running."), tags: [LiveTag])
            .AddCheck<SiloActiveHealthCheck>("orleans-silo", tags: [ReadyTag])
            .AddCheck<GrainStorageHealthCheck>("grain-storage", tags: [ReadyTag]);
    }
}
