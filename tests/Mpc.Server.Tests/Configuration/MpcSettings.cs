using Microsoft.Extensions.Configuration;
using Mpc.Server;

namespace Mpc.Server.Tests.Configuration;

/// <summary>The <c>Mpc</c> section bound from in-memory settings ("Mpc:Section:Name", value), as the server binds it at start-up.</summary>
internal static class MpcSettings
{
    public static MpcServerOptions Bind(params (string Key, string Value)[] settings) =>
        MpcServerConfiguration.Bind(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    /// <summary>The start-up refusal of <paramref name="settings"/>; fails the test when they bind.</summary>
    public static ServerStartupException Refused(params (string Key, string Value)[] settings) =>
        Assert.Throws<ServerStartupException>(() => Bind(settings));
}
