using System.Text.RegularExpressions;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Server;
using Orleans.Runtime;
using Orleans.Storage;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Mpc.Server.Tests.Operations;

/// <summary>
/// The gRPC health service as a kubelet probe sees it: a raw grpc.health.v1.Health/Check on a running server, for
/// every name the server answers and every name a probe under deploy/ asks for.
/// </summary>
public sealed class HealthServiceTests : IAsyncLifetime
{
    private readonly UnreachableStorage _storage;
    private readonly ServerFixture _server;

    public HealthServiceTests() =>
        (_server, _storage) = ServerFixture.WithWrappedKeyStorage("mpc-health-", inner => new UnreachableStorage(inner));

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Every_health_name_answers_serving_on_a_running_server()
    {
        Assert.Equal(["", "readiness", "mpc.signer.v1.Signer", "mpc.signer.v1.SignerAdmin", "liveness"], ServerHealth.ServiceNames);
        foreach (string name in ServerHealth.ServiceNames)
        {
            Assert.Equal(ServingStatus.Serving, await CheckAsync(name));
        }
    }

    [Fact]
    public async Task Every_probe_under_deploy_asks_for_a_name_the_server_answers_serving()
    {
        IReadOnlyList<string> probed = ProbedServiceNames();
        foreach (string name in probed)
        {
            Assert.Contains(name, ServerHealth.ServiceNames);
            Assert.Equal(ServingStatus.Serving, await CheckAsync(name));
        }
    }

    [Fact]
    public async Task A_name_the_server_does_not_know_is_not_found()
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(_server.Address);
        var status = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = "no-such-service" }));
        Assert.Equal(Grpc.Core.StatusCode.NotFound, status.StatusCode);
    }

    [Fact]
    public async Task Unreachable_storage_makes_readiness_not_serving_while_liveness_stays_serving()
    {
        // A user's key grain is active before the outage: readiness fails on storage, not on a cold grain.
        using MpcSignerClient client = _server.Client("health-user");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);

        _storage.Unreachable = true;
        foreach (string name in ServerHealth.ReadinessNames)
        {
            Assert.Equal(ServingStatus.NotServing, await CheckAsync(name));
        }
        Assert.Equal(ServingStatus.Serving, await CheckAsync(ServerHealth.Liveness));
        Assert.True(_storage.RefusedCalls > 0, "the readiness check never read storage");

        // Liveness runs no storage check at all: its answer cost no read.
        int refused = _storage.RefusedCalls;
        Assert.Equal(ServingStatus.Serving, await CheckAsync(ServerHealth.Liveness));
        Assert.Equal(refused, _storage.RefusedCalls);

        _storage.Unreachable = false;
        foreach (string name in ServerHealth.ServiceNames)
        {
            Assert.Equal(ServingStatus.Serving, await CheckAsync(name));
        }
        await client.SignDigestAsync(key, new byte[32]);
    }

    [Fact]
    public async Task Storage_that_hangs_makes_readiness_not_serving_within_the_probe_budget()
    {
        _storage.Hang = true;
        // The check gives up by itself: under the caller's deadline the answer is NOT_SERVING, not DeadlineExceeded.
        Assert.Equal(ServingStatus.NotServing, await CheckAsync(ServerHealth.Readiness, deadline: TimeSpan.FromSeconds(30)));
        Assert.Equal(ServingStatus.Serving, await CheckAsync(ServerHealth.Liveness));
        _storage.Hang = false;
        Assert.Equal(ServingStatus.Serving, await CheckAsync(ServerHealth.Readiness));
    }

    private async Task<ServingStatus> CheckAsync(string service, TimeSpan? deadline = null)
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(_server.Address);
        HealthCheckResponse response = await new Health.HealthClient(channel).CheckAsync(
            new HealthCheckRequest { Service = service }, deadline: deadline is { } d ? DateTime.UtcNow + d : null);
        return response.Status;
    }

    /// <summary>
    /// The literal service names of the gRPC probes in deploy/ (Kubernetes manifests or chart templates): each
    /// "service:" within a few lines after a "grpc:" key. A templated name ("{{ ... }}") is left to the chart's values.
    /// </summary>
    private static IReadOnlyList<string> ProbedServiceNames()
    {
        string deploy = Path.Combine(Repository.Root, "deploy");
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(deploy, "*", SearchOption.AllDirectories)
                     .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".tpl", StringComparison.Ordinal)))
        {
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                if (!Regex.IsMatch(lines[i], @"^\s*grpc:\s*$"))
                {
                    continue;
                }
                for (int j = i + 1; j < Math.Min(lines.Length, i + 5); j++)
                {
                    Match service = Regex.Match(lines[j], @"^\s*service:\s*(?:""([^""]*)""|'([^']*)'|([^\s#""']*))\s*(?:#.*)?$");
                    if (service.Success)
                    {
                        string name = service.Groups[1].Success ? service.Groups[1].Value
                            : service.Groups[2].Success ? service.Groups[2].Value
                            : service.Groups[3].Value;
                        if (!name.Contains("{{", StringComparison.Ordinal))
                        {
                            names.Add(name);
                        }
                        break;
                    }
                }
            }
        }
        return [.. names];
    }

    /// <summary>Grain storage that refuses (or never answers) every call while its switch is on: a Redis outage.</summary>
    private sealed class UnreachableStorage(IGrainStorage inner) : IGrainStorage
    {
        private int _refusedCalls;

        public volatile bool Unreachable;

        public volatile bool Hang;

        public int RefusedCalls => Volatile.Read(ref _refusedCalls);

        public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            await Outage();
            await inner.ReadStateAsync(stateName, grainId, grainState);
        }

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            await Outage();
            await inner.WriteStateAsync(stateName, grainId, grainState);
        }

        public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            await Outage();
            await inner.ClearStateAsync(stateName, grainId, grainState);
        }

        private async Task Outage()
        {
            if (Hang)
            {
                // Longer than any readiness budget; released when the test switches the hang off.
                while (Hang)
                {
                    await Task.Delay(50);
                }
            }
            if (Unreachable)
            {
                Interlocked.Increment(ref _refusedCalls);
                throw new IOException("Injected storage outage.");
            }
        }
    }
}
