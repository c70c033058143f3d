using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Client;
using Mpc.Server;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// The static token key (Mpc__Auth__PublicKeyFile) in EC and RSA, and every authentication setting the server
/// refuses at start-up, each refused with one line that names the setting and the file or URL.
/// </summary>
public sealed class TokenKeyConfigurationTests : IDisposable
{
    private const string Issuer = "https://idp.example/static";
    private readonly TempDirectory _root = new("mpc-auth-config-");

    private string P(string name) => Path.Combine(_root.Path, name);

    private MpcServerOptions Options(Action<AuthOptions> auth)
    {
        var options = new MpcServerOptions { DataDirectory = P("data"), Urls = "http://127.0.0.1:0", Quiet = true };
        auth(options.Auth);
        return options;
    }

    private string Refusal(Action<AuthOptions> auth)
    {
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => MpcServerHost.Build(Options(auth)));
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_static_public_key_file_validates_tokens_signed_by_its_key_RSA_or_EC(bool rsa)
    {
        using TestIdentityProvider.SigningKey signer = rsa ? TestIdentityProvider.SigningKey.NewRsa() : TestIdentityProvider.SigningKey.NewEc();
        using TestIdentityProvider.SigningKey other = rsa ? TestIdentityProvider.SigningKey.NewRsa() : TestIdentityProvider.SigningKey.NewEc();
        File.WriteAllText(P("idp.pem"), signer.PublicKeyPem());
        await using WebApplication app = MpcServerHost.Build(Options(a =>
        {
            a.PublicKeyFile = P("idp.pem");
            a.Issuer = Issuer;
        }));
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var provider = new TestIdentityProvider();

        Assert.Equal(StatusCode.OK, await ListKeysStatus(address, provider.Token(signer, "static-user", issuer: Issuer)));
        Assert.Equal(StatusCode.Unauthenticated, await ListKeysStatus(address, provider.Token(other, "static-user", issuer: Issuer)));
        Assert.Equal(StatusCode.Unauthenticated, await ListKeysStatus(address, provider.Token(signer, "static-user", issuer: "mpc-signer-dev")));
        await app.StopAsync();
    }

    [Fact]
    public async Task A_server_whose_identity_provider_is_unreachable_starts_and_refuses_tokens_until_it_answers()
    {
        int closedPort;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
        await using WebApplication app = MpcServerHost.Build(Options(a =>
        {
            a.Authority = $"http://127.0.0.1:{closedPort}";
            a.RequireHttpsMetadata = false;
        }));
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using TestIdentityProvider.SigningKey signer = TestIdentityProvider.SigningKey.NewEc();
        Assert.Equal(StatusCode.Unauthenticated, await ListKeysStatus(address, new TestIdentityProvider().Token(signer, "u", issuer: $"http://127.0.0.1:{closedPort}")));
        await app.StopAsync();
    }

    private static async Task<StatusCode> ListKeysStatus(Uri address, string token)
    {
        using var client = new MpcSignerClient(address, token);
        try
        {
            await client.ListKeysAsync();
            return StatusCode.OK;
        }
        catch (MpcSignerException e)
        {
            return e.Status!.Value;
        }
    }

    [Fact]
    public void A_public_key_file_that_is_not_a_key_is_refused_naming_the_setting_and_the_file()
    {
        File.WriteAllText(P("garbage.pem"), "not a key\n");
        Assert.Equal(
            $"Mpc__Auth__PublicKeyFile: '{P("garbage.pem")}' holds no PEM block; expected -----BEGIN PUBLIC KEY----- (EC or RSA) or -----BEGIN CERTIFICATE-----.",
            Refusal(a => a.PublicKeyFile = P("garbage.pem")));

        File.WriteAllText(P("broken.pem"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        string broken = Refusal(a => a.PublicKeyFile = P("broken.pem"));
        Assert.StartsWith($"Mpc__Auth__PublicKeyFile: '{P("broken.pem")}' holds a PUBLIC KEY that cannot be read as an EC or RSA public key", broken, StringComparison.Ordinal);

        Assert.StartsWith($"Mpc__Auth__PublicKeyFile: cannot read '{P("missing.pem")}'", Refusal(a => a.PublicKeyFile = P("missing.pem")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_private_key_or_a_short_RSA_key_is_refused()
    {
        using (var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            File.WriteAllText(P("private.pem"), ec.ExportPkcs8PrivateKeyPem());
        }
        Assert.Equal(
            $"Mpc__Auth__PublicKeyFile: '{P("private.pem")}' holds a private key; give the server only the identity provider's public key (openssl pkey -pubout).",
            Refusal(a => a.PublicKeyFile = P("private.pem")));

        using (var rsa = RSA.Create(1024))
        {
            File.WriteAllText(P("short.pem"), rsa.ExportSubjectPublicKeyInfoPem());
        }
        Assert.Equal(
            $"Mpc__Auth__PublicKeyFile: '{P("short.pem")}' holds a 1024-bit RSA key; at least 2048 bits are required.",
            Refusal(a => a.PublicKeyFile = P("short.pem")));
    }

    [Fact]
    public void An_RSA_public_key_in_PKCS1_or_a_certificate_is_accepted()
    {
        using var rsa = RSA.Create(2048);
        File.WriteAllText(P("pkcs1.pem"), rsa.ExportRSAPublicKeyPem());
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=idp", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(P("idp.crt"), certificate.ExportCertificatePem());
        foreach (string file in new[] { P("pkcs1.pem"), P("idp.crt") })
        {
            using WebApplication app = MpcServerHost.Build(Options(a => a.PublicKeyFile = file));
        }
    }

    [Fact]
    public void Authority_settings_are_checked_at_start_up()
    {
        Assert.Equal(
            "Mpc__Auth__Authority and Mpc__Auth__PublicKeyFile are both set; tokens come from one identity provider: keep one of them.",
            Refusal(a =>
            {
                a.Authority = "https://idp.example";
                a.PublicKeyFile = P("idp.pem");
            }));
        Assert.Equal(
            "Mpc__Auth__Authority 'idp.example' is not an absolute https URL (the identity provider's issuer, e.g. https://login.example.com/realms/mpc).",
            Refusal(a => a.Authority = "idp.example"));
        Assert.Equal(
            "Mpc__Auth__Authority 'http://idp.example' is plain http: use https.",
            Refusal(a => a.Authority = "http://idp.example"));
        Assert.Equal(
            "Mpc__Auth__Authority 'http://127.0.0.1:9' is plain http: use https, or set Mpc__Auth__RequireHttpsMetadata=false for a loopback test provider.",
            Refusal(a => a.Authority = "http://127.0.0.1:9"));
        Assert.Equal(
            "Mpc__Auth__RequireHttpsMetadata=false is allowed only for a loopback authority (tests); Mpc__Auth__Authority 'https://idp.example' is not loopback.",
            Refusal(a =>
            {
                a.Authority = "https://idp.example";
                a.RequireHttpsMetadata = false;
            }));
        Assert.Equal(
            "Mpc__Auth__MetadataAddress 'http://idp.example/.well-known/openid-configuration' is plain http: use https.",
            Refusal(a =>
            {
                a.Authority = "https://idp.example";
                a.MetadataAddress = "http://idp.example/.well-known/openid-configuration";
            }));
    }

    public void Dispose()
    {
        _root.Dispose();
    }
}
