using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mpc.Server;
using Orleans.Runtime;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Mpc.Server.Tests.Configuration;

/// <summary>
/// How the server is reached: TLS straight from Kestrel's default certificate settings, plain http beyond loopback
/// only on the operator's word (and then a warning), no Kestrel endpoints behind Mpc__Urls' back, and no Orleans gateway.
/// </summary>
public sealed class ListenTransportTests : IDisposable
{
    private readonly TempDirectory _root = new("mpc-listen-");

    private string DataDirectory => _root.File("data");

    [Fact]
    public async Task An_https_url_serves_tls_with_the_certificate_in_kestrels_default_certificate_settings()
    {
        using X509Certificate2 certificate = SelfSignedLoopbackCertificate();
        await using WebApplication app = BuildServing(certificate);
        Uri address = await StartAsync(app);

        Assert.Equal("https", address.Scheme);
        Assert.Equal(certificate.SerialNumber, await PresentedSerialAsync(address, certificate));
    }

    [Fact]
    public async Task A_certificate_renewed_in_place_is_presented_on_new_connections_without_a_restart()
    {
        using X509Certificate2 first = SelfSignedLoopbackCertificate();
        await using WebApplication app = BuildServing(first);
        Uri address = await StartAsync(app);
        Assert.Equal(first.SerialNumber, await PresentedSerialAsync(address, first));

        using X509Certificate2 renewed = SelfSignedLoopbackCertificate();
        WritePem(renewed);
        // Within the check interval, plus the time a slow machine takes to connect.
        string? presented = null;
        await Poll.UntilAsync(ReloadingCertificate.CheckInterval + TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(250),
            async () => (presented = await PresentedSerialAsync(address, first, renewed)) == renewed.SerialNumber,
            () => $"the server still presents serial {presented}, not the renewed {renewed.SerialNumber}");
    }

    /// <summary>A server on an https:// loopback URL with <paramref name="certificate"/> in Kestrel's default certificate settings (PEM files).</summary>
    private WebApplication BuildServing(X509Certificate2 certificate)
    {
        (string certificateFile, string keyFile) = WritePem(certificate);
        var options = new MpcServerOptions { DataDirectory = DataDirectory, Urls = "https://127.0.0.1:0", Quiet = true };
        return MpcServerHost.Build(options,
            PemSettings(certificateFile, keyFile));
    }

    /// <summary>Kestrel's default certificate as PEM files, as command-line settings.</summary>
    private static string[] PemSettings(string certificateFile, string keyFile) =>
        [$"--Kestrel:Certificates:Default:Path={certificateFile}", $"--Kestrel:Certificates:Default:KeyPath={keyFile}"];

    /// <summary>Starts <paramref name="app"/> and returns the address it listens on.</summary>
    private static async Task<Uri> StartAsync(WebApplication app)
    {
        await app.StartAsync();
        return new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    /// <summary>The serial of the certificate the server presents on a new connection (one gRPC health call), one of <paramref name="trusted"/>.</summary>
    private static async Task<string?> PresentedSerialAsync(Uri address, params X509Certificate2[] trusted)
    {
        string? presented = null;
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, remote, _, _) =>
        {
            presented = remote?.GetSerialNumberString();
            return trusted.Any(certificate => certificate.GetCertHashString() == remote?.GetCertHashString());
        };
        using GrpcChannel channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler });
        HealthCheckResponse health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = "liveness" });
        Assert.Equal(ServingStatus.Serving, health.Status);
        return presented;
    }

    [Fact]
    public async Task Beside_https_the_probe_port_answers_health_in_plain_h2c_and_is_not_logged_as_plain_signing_traffic()
    {
        using X509Certificate2 certificate = SelfSignedLoopbackCertificate();
        (string certificateFile, string keyFile) = WritePem(certificate);
        int probePort = ClusterPorts.Free();
        var warnings = new CapturedWarnings();
        var options = new MpcServerOptions
        {
            DataDirectory = DataDirectory,
            Urls = "https://0.0.0.0:0",
            Health = { Port = probePort },
            Quiet = true,
            Auth = { AllowDevelopmentKey = true },
        };

        await using WebApplication app = MpcServerHost.Build(options,
            PemSettings(certificateFile, keyFile),
            configureSilo: silo => silo.Services.AddSingleton(warnings.Provider()));
        await app.StartAsync();

        // What a kubelet gRPC probe does: h2c to the pod's address at the probe port.
        using GrpcChannel probe = GrpcChannel.ForAddress($"http://127.0.0.1:{probePort}");
        foreach (string name in (string[])["", ServerHealth.Liveness])
        {
            Assert.Equal(ServingStatus.Serving, (await new Health.HealthClient(probe).CheckAsync(new HealthCheckRequest { Service = name })).Status);
        }
        // The gRPC port itself stays TLS only.
        int grpcPort = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal))).Port;
        using GrpcChannel plainToGrpcPort = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await new Health.HealthClient(plainToGrpcPort).CheckAsync(new HealthCheckRequest()));
        Assert.Empty(warnings.Containing("plain http"));
    }

    [Fact]
    public void An_https_url_without_a_certificate_is_one_line_naming_the_certificate_setting_before_anything_touches_the_disk()
    {
        var options = new MpcServerOptions { DataDirectory = DataDirectory, Urls = "https://127.0.0.1:0" };

        var e = Assert.Throws<ServerStartupException>(() => MpcServerHost.Build(options));

        Assert.Equal(
            "setting Mpc__Urls='https://127.0.0.1:0' needs a certificate: set Kestrel__Certificates__Default__Path (a PEM certificate with its key in " +
            "Kestrel__Certificates__Default__KeyPath, or a .pfx with Kestrel__Certificates__Default__Password)",
            Assert.Single(e.Problems));
        Assert.False(Directory.Exists(DataDirectory));
    }

    [Fact]
    public void An_https_certificate_file_that_cannot_be_read_is_one_line_naming_its_setting_before_anything_touches_the_disk()
    {
        var options = new MpcServerOptions { DataDirectory = DataDirectory, Urls = "https://127.0.0.1:0" };
        string missing = Path.Combine(Path.GetTempPath(), "mpc-no-such-certificate-" + Guid.NewGuid().ToString("N") + ".pem");

        var e = Assert.Throws<ServerStartupException>(() => MpcServerHost.Build(options, [$"--Kestrel:Certificates:Default:Path={missing}"]));

        string line = Assert.Single(e.Problems);
        Assert.StartsWith($"setting Kestrel__Certificates__Default__Path='{missing}' cannot be read: ", line);
        Assert.DoesNotContain('\n', line);
        Assert.False(Directory.Exists(DataDirectory));
    }

    [Fact]
    public void An_https_key_that_is_not_the_certificates_or_an_expired_certificate_is_one_line_that_shows_no_key()
    {
        var options = new MpcServerOptions { DataDirectory = DataDirectory, Urls = "https://127.0.0.1:0" };
        using X509Certificate2 certificate = SelfSignedLoopbackCertificate();
        (string certificateFile, _) = WritePem(certificate);
        using ECDsa other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string otherKey = _root.File("other-key.pem");
        File.WriteAllText(otherKey, other.ExportPkcs8PrivateKeyPem());

        var e = Assert.Throws<ServerStartupException>(() => MpcServerHost.Build(options,
            PemSettings(certificateFile, otherKey)));

        Assert.Equal(
            $"setting Kestrel__Certificates__Default__KeyPath='{otherKey}' holds no unencrypted PEM private key " +
            "(PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY) of the certificate in Kestrel__Certificates__Default__Path",
            Assert.Single(e.Problems));
        Assert.DoesNotContain(File.ReadAllText(otherKey).Split('\n')[1], e.Message, StringComparison.Ordinal);

        using X509Certificate2 expired = SelfSignedLoopbackCertificate(DateTimeOffset.UtcNow.AddMinutes(-1));
        (certificateFile, string keyFile) = WritePem(expired);
        e = Assert.Throws<ServerStartupException>(() => MpcServerHost.Build(options,
            PemSettings(certificateFile, keyFile)));
        Assert.StartsWith($"setting Kestrel__Certificates__Default__Path='{certificateFile}' holds a certificate that expired on ", Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Kestrel_endpoints_are_refused_because_they_would_replace_the_listen_urls_and_their_checks()
    {
        var options = new MpcServerOptions { DataDirectory = DataDirectory };

        var e = Assert.Throws<ServerStartupException>(() => MpcServerHost.Build(options, ["--Kestrel:Endpoints:Grpc:Url=http://0.0.0.0:7443"]));

        string line = Assert.Single(e.Problems);
        Assert.StartsWith("setting Kestrel__Endpoints__Grpc is not supported: Kestrel endpoints replace Mpc__Urls", line);
        Assert.False(Directory.Exists(DataDirectory));
    }

    [Fact]
    public async Task Plain_http_beyond_loopback_on_the_operators_word_logs_one_warning_naming_every_such_url()
    {
        int webPort = ClusterPorts.Free();
        var warnings = new CapturedWarnings();
        var options = new MpcServerOptions
        {
            DataDirectory = DataDirectory,
            Urls = "http://0.0.0.0:0",
            PlainHttpBehindTlsProxy = true,
            Quiet = true,
            Web = { AllowedOrigins = "https://app.example.com", Port = webPort },
            Auth = { AllowDevelopmentKey = true },
        };

        await using WebApplication app = MpcServerHost.Build(options, configureSilo: silo => silo.Services.AddSingleton(warnings.Provider()));

        string warning = Assert.Single(warnings.Containing("plain http"));
        Assert.Contains($"(http://0.0.0.0:0, http://0.0.0.0:{webPort})", warning);
        Assert.Contains(MpcServerOptions.PlainHttpBehindTlsProxySetting + "=true", warning);
    }

    [Fact]
    public async Task The_development_key_beyond_loopback_on_the_operators_word_logs_one_warning_even_when_quiet()
    {
        var warnings = new CapturedWarnings();
        var options = new MpcServerOptions
        {
            DataDirectory = DataDirectory,
            Urls = "http://0.0.0.0:0",
            PlainHttpBehindTlsProxy = true,
            Quiet = true,
            Auth = { AllowDevelopmentKey = true },
        };

        await using WebApplication app = MpcServerHost.Build(options, configureSilo: silo => silo.Services.AddSingleton(warnings.Provider()));

        string warning = Assert.Single(warnings.Containing("development key"));
        Assert.Contains("(http://0.0.0.0:0)", warning, StringComparison.Ordinal);
        Assert.Contains(AuthOptions.AllowDevelopmentKeySetting + "=true", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void The_development_key_beyond_loopback_is_refused_before_the_data_directory_is_made()
    {
        var options = new MpcServerOptions { DataDirectory = DataDirectory, Urls = "http://0.0.0.0:0", PlainHttpBehindTlsProxy = true, Quiet = true };

        var e = Assert.Throws<ServerStartupException>(() => MpcServerHost.Build(options));

        Assert.Contains(AuthOptions.AllowDevelopmentKeySetting, Assert.Single(e.Problems), StringComparison.Ordinal);
        Assert.False(Directory.Exists(DataDirectory));
    }

    [Fact]
    public async Task The_setting_alone_logs_nothing_while_every_url_is_on_loopback()
    {
        var warnings = new CapturedWarnings();
        var options = new MpcServerOptions { DataDirectory = DataDirectory, Urls = "http://127.0.0.1:0;http://[::1]:0", PlainHttpBehindTlsProxy = true };

        await using WebApplication app = MpcServerHost.Build(options, configureSilo: silo => silo.Services.AddSingleton(warnings.Provider()));

        Assert.Empty(warnings.Containing("plain http"));
    }

    [Fact]
    public async Task The_silo_runs_no_orleans_gateway_that_would_take_grain_calls_without_a_token()
    {
        var options = new MpcServerOptions { DataDirectory = DataDirectory, Urls = "http://127.0.0.1:0", Quiet = true };
        await using WebApplication app = MpcServerHost.Build(options);
        await app.StartAsync();

        ILocalSiloDetails silo = app.Services.GetRequiredService<ILocalSiloDetails>();

        Assert.NotNull(silo.SiloAddress);
        Assert.Null(silo.GatewayAddress);
    }

    [Fact]
    public async Task A_redis_mode_silo_runs_no_orleans_gateway_either()
    {
        using var redis = new RedisProcess(_root.File("redis"));
        Directory.CreateDirectory(redis.Directory);
        await redis.StartAsync();
        var options = new MpcServerOptions { DataDirectory = DataDirectory, Urls = "http://127.0.0.1:0", Quiet = true };
        options.Cluster.Mode = ClusterOptions.RedisMode;
        options.Cluster.RedisConnectionString = redis.ConnectionString;
        options.Cluster.AdvertisedIPAddress = "127.0.0.1";
        options.Cluster.SiloPort = ClusterPorts.Free();
        // With silo TLS, which also configures Orleans' gateway side: still no gateway.
        using var ca = new TestClusterCa(_root.File("tls"));
        ca.Issue("silo").ApplyTo(options.Cluster);

        await using WebApplication app = MpcServerHost.Build(options);
        ILocalSiloDetails silo = app.Services.GetRequiredService<ILocalSiloDetails>();

        Assert.Equal(options.Cluster.SiloPort, silo.SiloAddress.Endpoint.Port);
        Assert.Null(silo.GatewayAddress);
    }

    /// <summary>The certificate and its key as PEM files, for Kestrel's default certificate settings.</summary>
    private (string CertificateFile, string KeyFile) WritePem(X509Certificate2 certificate)
    {
        string certificateFile = _root.File("server.pem");
        string keyFile = _root.File("server-key.pem");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        using ECDsa key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certificateFile, keyFile);
    }

    /// <summary>An EC certificate for 127.0.0.1 and localhost, valid for a day (or until <paramref name="notAfter"/>).</summary>
    private static X509Certificate2 SelfSignedLoopbackCertificate(DateTimeOffset? notAfter = null)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), notAfter ?? DateTimeOffset.UtcNow.AddDays(1));
    }

    public void Dispose() => _root.Dispose();
}
