using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Mpc.Client;

namespace Mpc.Client.Tests.Custody;

/// <summary>
/// The SDK's transport rules: plain http only to loopback unless explicitly allowed (then a warning on every call),
/// and a private CA trusted without giving up chain or host-name checks.
/// </summary>
[Collection("server")]
public sealed class TransportSecurityTests(ServerFixture server)
{
    [Theory]
    [InlineData("http://signer.example:7443")]
    [InlineData("http://10.1.2.3:7443")]
    [InlineData("http://[2001:db8::1]:7443")]
    public void Plain_http_to_a_host_that_is_not_loopback_is_refused_at_construction(string url)
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => new MpcSignerClient(new Uri(url), "token").Dispose());
        Assert.Contains("MpcSignerClientOptions.AllowInsecureHttp", e.Message, StringComparison.Ordinal);
        Assert.Contains("Refusing plain http", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7443")]
    [InlineData("http://127.8.9.10:7443")]
    [InlineData("http://[::1]:7443")]
    [InlineData("http://localhost:7443")]
    [InlineData("https://signer.example:7443")]
    public void Loopback_http_and_any_https_are_accepted(string url) =>
        new MpcSignerClient(new Uri(url), "token").Dispose();

    [Fact]
    public void Other_schemes_are_refused() =>
        Assert.Throws<ArgumentException>(() => new MpcSignerClient(new Uri("ftp://signer.example/"), "token").Dispose());

    [Fact]
    public async Task Allowed_plain_http_logs_a_warning_on_every_call()
    {
        var warnings = new CapturedWarnings();
        using ILoggerFactory loggers = LoggerFactory.Create(builder => builder.AddProvider(warnings.Provider()));
        // The client believes it talks to a remote host over http; the handler carries the calls to the test server.
        var options = new MpcSignerClientOptions
        {
            AllowInsecureHttp = true,
            LoggerFactory = loggers,
            // HttpClientHandler, not SocketsHttpHandler: gRPC would otherwise resolve and connect to the address itself.
            HttpHandler = new RedirectingHandler(server.Address) { InnerHandler = new HttpClientHandler() },
        };
        using var client = new MpcSignerClient(new Uri("http://signer.example:7443"), server.Token("transport-user"), options);

        await client.ListKeysAsync();
        await client.ListKeysAsync();

        Assert.Equal(2, warnings.Containing("plain http").Count(m => m.Contains("signer.example", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_private_ca_is_trusted_only_for_certificates_it_issued_with_the_right_name()
    {
        using ECDsa caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Test Private CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        using ECDsa leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=signer.example", leafKey, HashAlgorithmName.SHA256);
        using X509Certificate2 leaf = leafRequest.Create(ca, now.AddDays(-1), now.AddDays(10), [1, 2, 3, 4]);
        using ECDsa otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 otherCa = new CertificateRequest("CN=Other CA", otherKey, HashAlgorithmName.SHA256).CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        Assert.True(TransportSecurity.IsTrusted(leaf, SslPolicyErrors.RemoteCertificateChainErrors, [ca]));
        Assert.True(TransportSecurity.IsTrusted(leaf, SslPolicyErrors.None, [ca]));
        Assert.False(TransportSecurity.IsTrusted(leaf, SslPolicyErrors.RemoteCertificateChainErrors, [otherCa]));
        Assert.False(TransportSecurity.IsTrusted(leaf, SslPolicyErrors.RemoteCertificateNameMismatch, [ca]));
        Assert.False(TransportSecurity.IsTrusted(null, SslPolicyErrors.RemoteCertificateNotAvailable, [ca]));
    }

    private sealed class RedirectingHandler(Uri target) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.RequestUri = new UriBuilder(request.RequestUri!) { Host = target.Host, Port = target.Port }.Uri;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
