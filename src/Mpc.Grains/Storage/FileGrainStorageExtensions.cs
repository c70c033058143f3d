using Microsoft.Extensions.DependencyInjection;
using Mpc.Grains.Abstractions;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;

namespace Mpc.Grains.Storage;

public static class FileGrainStorageExtensions
{
    /// <summary>
    /// Registers <see cref="FileGrainStorage"/> as the grain storage named <paramref name="name"/>, for
    /// <c>[PersistentState("state", name)]</c>. Files go under <c>&lt;dataDirectory&gt;/grains/</c>.
    /// </summary>
    /// <remarks>
    /// Orleans resolves named storage as a keyed <c>IGrainStorage</c> service. <c>AddGrainStorage</c> is the
    /// runtime's own registration helper (what the built-in providers use): it adds the keyed singleton and,
    /// for the name "Default", the unkeyed default as well.
    /// </remarks>
    public static ISiloBuilder AddFileGrainStorage(this ISiloBuilder builder, string name, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        builder.Services.AddGrainStorage(
            name,
            (services, _) => new FileGrainStorage(name, dataDirectory, services.GetRequiredService<Serializer>()));
        return builder;
    }
}
