using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace Mpc.Server;

/// <summary>Healthy once this process's Orleans silo has joined its cluster and is active.</summary>
internal sealed class SiloActiveHealthCheck(ISiloStatusOracle silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(silo.CurrentStatus == SiloStatus.Active
            ? HealthCheckResult.Healthy("The silo is active.")
            : HealthCheckResult.Unhealthy($"The silo is {silo.CurrentStatus}."));
}
