using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Mpc.Grains.Storage;

namespace Mpc.Grains.Tests.Storage;

public interface IFileBackedCounterGrain : IGrainWithStringKey
{
    Task<int> Increment();

    Task<int> Get();
}

public sealed class FileBackedCounterGrain(
    [PersistentState("counter", FileGrainStorageSiloTests.StorageName)] IPersistentState<TestState> state)
    : Grain, IFileBackedCounterGrain
{
    public async Task<int> Increment()
    {
        state.State.Counter++;
        await state.WriteStateAsync();
        return state.State.Counter;
    }

    public Task<int> Get() => Task.FromResult(state.State.Counter);
}

/// <summary>A real silo: <c>[PersistentState("counter", name)]</c> finds the provider, and state survives a restart.</summary>
public sealed class FileGrainStorageSiloTests : IDisposable
{
    public const string StorageName = "mpc-file";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Persistent_state_survives_a_silo_restart()
    {
        const string key = "user/with:odd chars";
        using (IHost first = await StartSiloAsync())
        {
            var grain = first.Services.GetRequiredService<IGrainFactory>().GetGrain<IFileBackedCounterGrain>(key);
            Assert.Equal(1, await grain.Increment());
            Assert.Equal(2, await grain.Increment());
            await first.StopAsync();
        }

        Assert.Single(Directory.GetFiles(Path.Combine(_dir.Path, FileGrainStorage.DirectoryName)));

        using IHost second = await StartSiloAsync();
        var again = second.Services.GetRequiredService<IGrainFactory>().GetGrain<IFileBackedCounterGrain>(key);
        Assert.Equal(2, await again.Get());
        Assert.Equal(3, await again.Increment());
        await second.StopAsync();
    }

    private async Task<IHost> StartSiloAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort())
            .AddFileGrainStorage(StorageName, _dir.Path));
        IHost host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
