using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace Mpc.Server;

/// <summary>
/// Healthy while the key grains' storage (Redis, or the data directory) answers a read in time. The read is of a
/// record nobody writes, under a grain id no grain has: it touches no user's state and writes nothing.
/// </summary>
internal sealed class GrainStorageHealthCheck(IServiceProvider services) : IHealthCheck
{
    /// <summary>Below the kubelet's probe timeout, so a hung storage gives NOT_SERVING rather than a probe timeout.</summary>
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    internal const string ProbeStateName = "health-probe";

    private static readonly GrainId ProbeGrain = GrainId.Create("mpc-health", "storage-probe");

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        IGrainStorage storage = services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Keys);
        try
        {
            await storage.ReadStateAsync(ProbeStateName, ProbeGrain, new GrainState<StorageProbe>()).WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy("Grain storage answers.");
        }
        catch (TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"Grain storage did not answer within {Timeout.TotalSeconds:0} s.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The type only: a storage client's message may name hosts or connection settings.
            return HealthCheckResult.Unhealthy($"Grain storage failed a read ({e.GetType().Name}).");
        }
    }

    /// <summary>The probe's state type; never stored, so never serialized.</summary>
    internal sealed class StorageProbe;
}
