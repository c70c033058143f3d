using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Server;
using Orleans.Configuration;

namespace Mpc.Service.Tests.Service;

/// <summary>
/// A grain call that outlives Orleans' response timeout (a key generation on a loaded machine) reaches the client as
/// Unavailable with a retry hint, never as a bare Internal error. The server here gives every grain call 1 ms.
/// </summary>
public sealed class ServerTimeoutTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("mpc-timeout-").FullName;
    private readonly RingPedersenSecret _ringPedersen = RingPedersenSecret.Generate(BigNumBackends.Default);
    private WebApplication? _app;
    private Uri _address = null!;

    public async Task InitializeAsync()
    {
        var options = new MpcServerOptions { DataDirectory = _dataDirectory, Urls = "http://127.0.0.1:0" };
        _app = MpcServerHost.Build(options, configureSilo: silo =>
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMilliseconds(1)));
        await _app.StartAsync();
        _address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        _ringPedersen.Dispose();
        foreach (string directory in new[] { _dataDirectory, _dataDirectory + "-kek" })
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public async Task A_key_generation_that_times_out_inside_the_server_is_Unavailable_with_a_retry_hint()
    {
        string token;
        using (DevelopmentTokens tokens = DevelopmentTokens.Open(_dataDirectory, create: false))
        {
            token = tokens.Mint("timeout-user", TimeSpan.FromHours(1));
        }
        using var client = new MpcSignerClient(_address, token, new MpcSignerClientOptions { RingPedersen = _ringPedersen });

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.CreateKeyAsync(CurveKind.P256));

        Assert.Equal(StatusCode.Unavailable, refused.Status);
        Assert.Contains("did not answer in time", refused.Message, StringComparison.Ordinal);
        Assert.Contains("try again", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Internal", refused.Message, StringComparison.Ordinal);
    }
}
