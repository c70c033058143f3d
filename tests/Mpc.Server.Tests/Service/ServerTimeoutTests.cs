using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Orleans.Configuration;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// A grain call that outlives Orleans' response timeout (a key generation on a loaded machine) reaches the client as
/// Unavailable with a retry hint, never as a bare Internal error. The server here gives every grain call 1 ms.
/// </summary>
public sealed class ServerTimeoutTests : IAsyncLifetime
{
    private readonly ServerFixture _server = new()
    {
        ConfigureSilo = silo => silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMilliseconds(1)),
    };

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task A_key_generation_that_times_out_inside_the_server_is_Unavailable_with_a_retry_hint()
    {
        using MpcSignerClient client = _server.Client("timeout-user");

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.CreateKeyAsync(CurveKind.P256));

        Assert.Equal(StatusCode.Unavailable, refused.Status);
        Assert.Contains("did not answer in time", refused.Message, StringComparison.Ordinal);
        Assert.Contains("try again", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Internal", refused.Message, StringComparison.Ordinal);
    }
}
