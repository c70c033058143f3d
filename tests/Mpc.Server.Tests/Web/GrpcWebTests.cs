using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Server;
using Mpc.Transport.V1;

namespace Mpc.Server.Tests.Web;

/// <summary>A server with gRPC-Web on for two origins (one https, one plain http on localhost).</summary>
public sealed class GrpcWebServerFixture : IAsyncLifetime
{
    public const string AppOrigin = "https://app.example.com";
    public const string LocalOrigin = "http://localhost:5173";

    public GrpcWebServerFixture()
    {
        WebPort = ClusterPorts.Free();
        Server = new ServerFixture
        {
            ConfigureOptions = options =>
            {
                // Written as an operator might: a default port, upper case, a trailing slash; browsers send neither.
                options.Web.AllowedOrigins = "https://App.Example.com:443/; " + LocalOrigin;
                options.Web.Port = WebPort;
            },
        };
    }

    public ServerFixture Server { get; }

    public int WebPort { get; }

    /// <summary>Where browsers call: the gRPC host at the web port.</summary>
    public Uri WebAddress => new($"http://127.0.0.1:{WebPort}");

    public Task InitializeAsync() => Server.InitializeAsync();

    public Task DisposeAsync() => Server.DisposeAsync();
}

/// <summary>gRPC-Web with CORS for configured origins; every other origin refused (docs/service.md, "gRPC-Web and browsers").</summary>
public sealed class GrpcWebTests(GrpcWebServerFixture web) : IClassFixture<GrpcWebServerFixture>
{
    private const string ListKeysPath = "/mpc.signer.v1.Signer/ListKeys";

    private ServerFixture Server => web.Server;

    [Fact]
    public async Task A_grpc_web_client_from_an_allowed_origin_makes_a_key_and_signs_over_HTTP_1_1()
    {
        var seen = new RecordingHandler(GrpcWebServerFixture.AppOrigin, HttpVersion.Version11);
        using var client = new MpcSignerClient(web.WebAddress, Server.Token("web-user"), new MpcSignerClientOptions
        {
            DeviceProfileStore = Server.DeviceProfiles,
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, seen),
        });

        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        MpcSignature signature = await client.SignDigestAsync(key, digest);

        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, signature));
        Assert.NotEmpty(seen.Responses);
        // Every round went as gRPC-Web over HTTP/1.1 (what a browser speaks to a plain-text port), with the CORS answer.
        Assert.All(seen.OnTheWire, response => Assert.Equal((HttpVersion.Version11, "application/grpc-web"), response));
        Assert.All(seen.Responses, response =>
        {
            Assert.Equal(GrpcWebServerFixture.AppOrigin, Single(response, "Access-Control-Allow-Origin"));
            string exposed = Single(response, "Access-Control-Expose-Headers")!;
            Assert.Contains("grpc-status", exposed, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("grpc-message", exposed, StringComparison.OrdinalIgnoreCase);
        });
    }

    [Theory]
    [InlineData(GrpcWebServerFixture.AppOrigin)]
    [InlineData(GrpcWebServerFixture.LocalOrigin)]
    public async Task A_preflight_from_an_allowed_origin_gets_the_CORS_answer(string origin)
    {
        using var http = new HttpClient();
        using HttpResponseMessage response = await http.SendAsync(Preflight(origin));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(origin, Single(response, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", Single(response, "Access-Control-Allow-Methods")!, StringComparison.Ordinal);
        string allowedHeaders = Single(response, "Access-Control-Allow-Headers")!;
        foreach (string header in new[] { "authorization", "content-type", "x-grpc-web" })
        {
            Assert.Contains(header, allowedHeaders, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Equal("600", Single(response, "Access-Control-Max-Age"));
        // The token travels in a header; no cookie is ever honoured, so credentials are not allowed.
        Assert.Null(Single(response, "Access-Control-Allow-Credentials"));
    }

    [Theory]
    [InlineData("https://evil.example.com")]
    [InlineData("https://app.example.com.evil.example")]
    [InlineData("http://app.example.com")]
    [InlineData("https://app.example.com:8443")]
    [InlineData("null")]
    public async Task A_preflight_from_another_origin_is_refused_with_no_CORS_headers(string origin)
    {
        using var http = new HttpClient();
        using HttpResponseMessage response = await http.SendAsync(Preflight(origin));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_call_from_another_origin_is_refused_before_its_valid_token_is_looked_at()
    {
        const string user = "web-replayed";
        var seen = new RecordingHandler("https://evil.example.com", HttpVersion.Version11);
        using var channel = GrpcChannel.ForAddress(web.WebAddress, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, seen),
        });
        var signer = new Signer.SignerClient(channel);
        var headers = new Metadata { { "authorization", "Bearer " + Server.Token(user) } };

        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await signer.ListKeysAsync(new ListKeysRequest(), headers));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        HttpResponseMessage response = Assert.Single(seen.Responses);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null(Single(response, "Access-Control-Allow-Origin"));
        // The same token without an Origin header (a native client) is served.
        using RawSigner native = Server.Raw(Server.Token(user));
        Assert.Empty((await native.Client.ListKeysAsync(new ListKeysRequest(), native.Headers)).Keys);
    }

    [Fact]
    public async Task An_allowed_origin_without_a_token_gets_Unauthenticated_with_a_reason_the_page_can_read()
    {
        var seen = new RecordingHandler(GrpcWebServerFixture.AppOrigin, HttpVersion.Version11);
        using var channel = GrpcChannel.ForAddress(web.WebAddress, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, seen),
        });

        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await new Signer.SignerClient(channel).ListKeysAsync(new ListKeysRequest()));

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(GrpcWebServerFixture.AppOrigin, Single(Assert.Single(seen.Responses), "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task The_gRPC_port_stays_HTTP_2_only_for_native_clients()
    {
        using MpcSignerClient client = Server.Client("web-native");
        Assert.Empty(await client.ListKeysAsync());

        using var http = new HttpClient();
        using HttpResponseMessage preflight = await http.SendAsync(Preflight(GrpcWebServerFixture.AppOrigin, Server.Address, HttpVersion.Version11));
        Assert.False(preflight.IsSuccessStatusCode);
        Assert.DoesNotContain(preflight.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The OPTIONS request a browser sends before a page's cross-origin gRPC-Web call.</summary>
    internal static HttpRequestMessage Preflight(string origin, Uri server, Version version)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, new Uri(server, ListKeysPath))
        {
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type,x-grpc-web,x-user-agent");
        return request;
    }

    private HttpRequestMessage Preflight(string origin) => Preflight(origin, web.WebAddress, HttpVersion.Version11);

    internal static string? Single(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? string.Join(",", values) : null;

    /// <summary>Sends what a browser page at <paramref name="origin"/> would (its Origin header; none for null) in one HTTP version, and keeps the responses.</summary>
    internal sealed class RecordingHandler(string? origin, Version version) : DelegatingHandler(new SocketsHttpHandler())
    {
        public List<HttpResponseMessage> Responses { get; } = [];

        /// <summary>
        /// The HTTP version and content type of each response as it arrived (GrpcWebHandler later relabels both as
        /// native gRPC for the gRPC client).
        /// </summary>
        public List<(Version Version, string? MediaType)> OnTheWire { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Version = version;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
            if (origin is not null)
            {
                request.Headers.Add("Origin", origin);
            }
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            lock (Responses)
            {
                Responses.Add(response);
                OnTheWire.Add((response.Version, response.Content.Headers.ContentType?.MediaType));
            }
            return response;
        }
    }
}
