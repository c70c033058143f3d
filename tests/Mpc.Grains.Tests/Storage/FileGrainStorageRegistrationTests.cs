using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Mpc.Grains.Storage;
using Orleans.Storage;

namespace Mpc.Grains.Tests.Storage;

public sealed class FileGrainStorageRegistrationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Registers_a_keyed_grain_storage_under_the_name()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo.UseLocalhostClustering().AddFileGrainStorage("keys", _dir.Path));
        using IHost host = builder.Build();

        var storage = host.Services.GetKeyedService<IGrainStorage>("keys");
        var file = Assert.IsType<FileGrainStorage>(storage);
        Assert.Equal(Path.Combine(_dir.Path, FileGrainStorage.DirectoryName), file.Directory);
        Assert.Null(host.Services.GetKeyedService<IGrainStorage>("other"));
    }
}
