using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Mpc.Transport.V1;

namespace Mpc.Server.Tests.Web;

/// <summary>The shared test server has no Mpc__Web__AllowedOrigins: no gRPC-Web, and every origin is another origin.</summary>
[Collection("server")]
public sealed class GrpcWebOffTests(ServerFixture server)
{
    [Fact]
    public async Task Without_allowed_origins_a_grpc_web_call_is_not_served()
    {
        // Over HTTP/2, so that what refuses it is the missing gRPC-Web support, not the protocol of the port.
        var seen = new GrpcWebTests.RecordingHandler(origin: null, HttpVersion.Version20);
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, seen),
        });
        var headers = new Metadata { { "authorization", "Bearer " + server.Token("web-off") } };

        await Assert.ThrowsAsync<RpcException>(async () => await new Signer.SignerClient(channel).ListKeysAsync(new ListKeysRequest(), headers));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, Assert.Single(seen.Responses).StatusCode);
    }

    [Fact]
    public async Task Without_allowed_origins_a_request_carrying_an_Origin_is_refused()
    {
        using var http = new HttpClient();
        using HttpResponseMessage response = await http.SendAsync(GrpcWebTests.Preflight("https://app.example.com", server.Address, HttpVersion.Version20));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }
}
