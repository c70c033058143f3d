using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Grains.Sealing;
using Mpc.Protocol.Keys;
using Mpc.Server;

namespace Mpc.Server.Host.Tests.Cluster;

/// <summary>Redis, and two `mpc-server` silos talking mutual TLS with certificates of one test cluster CA.</summary>
public sealed class TlsClusterFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _root = new("mpc-silo-tls-");

    public TlsClusterFixture()
    {
        Directory.CreateDirectory(_root.File("redis"));
        Redis = new RedisProcess(_root.File("redis"));
        Ca = new TestClusterCa(_root.File("tls"));
        ClusterId = "tls-" + Guid.NewGuid().ToString("N")[..8];
        Silos = [.. Enumerable.Range(0, 2).Select(i => Silo($"silo{i}", Ca.Issue($"silo{i}")))];
    }

    public RedisProcess Redis { get; }

    public TestClusterCa Ca { get; }

    public string ClusterId { get; }

    public IReadOnlyList<SiloProcess> Silos { get; }

    public string DataDirectory => _root.File("data");

    public string File(string name) => _root.File(name);

    /// <summary>A silo of this cluster (same Redis, cluster id, data and master key) with the given TLS files.</summary>
    public SiloProcess Silo(string name, SiloTlsFiles tls) =>
        new(name, DataDirectory, _root.File("kek"), Redis.ConnectionString, ClusterId, tls.Environment);

    public async Task InitializeAsync()
    {
        await Redis.StartAsync();
        // Shared by every silo: made once up front so no two processes race to create them.
        using (DevelopmentTokens.Open(DataDirectory, create: true))
        using (var masterKey = new FileKeyEncryptionKeyProvider(_root.File("kek")))
        {
            Assert.NotEmpty(masterKey.KeyId);
        }
        // One after the other: the second joins a cluster whose first silo is active, so its join checks the TLS link.
        foreach (SiloProcess silo in Silos)
        {
            await silo.StartAsync();
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        foreach (SiloProcess silo in Silos)
        {
            silo.Dispose();
        }
        Redis.Dispose();
        Ca.Dispose();
        _root.Dispose();
    }
}

/// <summary>
/// Silo-to-silo traffic in Redis mode is mutual TLS: silos with certificates of the cluster CA form a cluster and a
/// user's calls cross between them; the silo port refuses a caller without a certificate; a silo whose certificate is
/// from another CA cannot join.
/// </summary>
[Collection("cluster")]
public sealed class SiloTlsClusterTests(TlsClusterFixture cluster, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<TlsClusterFixture>
{
    [Fact]
    public async Task Two_silos_with_certificates_of_the_cluster_ca_make_and_sign_with_a_key_across_each_other()
    {
        using DevelopmentTokens tokens = DevelopmentTokens.Open(cluster.DataDirectory, create: false);
        string token = tokens.Mint("tls-user-" + Guid.NewGuid().ToString("N")[..8], TimeSpan.FromHours(1));
        using var ringPedersen = Crypto.Proofs.RingPedersenSecret.Generate(BigNumBackends.Default);
        var options = new MpcSignerClientOptions { DeviceProfileStore = Mpc.Client.DeviceProfiles.InMemoryDeviceProfileStore.Around(ringPedersen) };
        using var first = new MpcSignerClient(cluster.Silos[0].Url, token, options);
        using var second = new MpcSignerClient(cluster.Silos[1].Url, token);

        // The user's grain lives on one of the two silos: either the key generation or the signature through the other
        // silo is a grain call from one silo to the other, over the TLS link.
        using MpcKey key = await first.CreateKeyAsync(CurveKind.P256);
        using MpcKey onSecond = second.OpenKey(ClientKeyShare.ImportSecret(key.Share.ExportSecret(), BigNumBackends.Default));
        foreach ((MpcSignerClient client, MpcKey share) in new[] { (second, onSecond), (first, key) })
        {
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            MpcSignature signature = await client.SignDigestAsync(share, digest);
            Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(key.Curve, key.SubjectPublicKeyInfo, digest, signature));
        }
    }

    [Fact]
    public async Task The_silo_port_speaks_tls_with_a_certificate_of_the_cluster_ca_and_refuses_a_caller_without_one()
    {
        int port = cluster.Silos[0].SiloPort;
        using X509Certificate2 authority = X509Certificate2.CreateFromPem(System.IO.File.ReadAllText(cluster.Ca.CaPath));

        // A caller with a certificate of the cluster CA completes the handshake, and the silo's certificate chains to that CA.
        SiloTlsFiles caller = cluster.Ca.Issue("probe");
        using (X509Certificate2 callerCertificate = X509Certificate2.CreateFromPemFile(caller.CertificatePath, caller.KeyPath))
        {
            await using SslStream tls = await HandshakeAsync(port, callerCertificate, authority);
            Assert.True(tls.IsMutuallyAuthenticated);
        }

        // Without a client certificate, or with one of another CA, the silo ends the connection: nothing is read from it.
        using var otherCa = new TestClusterCa(cluster.File("tls-other-probe"), "another-ca");
        SiloTlsFiles stranger = otherCa.Issue("stranger");
        using X509Certificate2 strangerCertificate = X509Certificate2.CreateFromPemFile(stranger.CertificatePath, stranger.KeyPath);
        foreach (X509Certificate2? certificate in new[] { null, strangerCertificate })
        {
            Exception refused = await Assert.ThrowsAnyAsync<Exception>(() => ExchangeAsync(port, certificate, authority));
            output.WriteLine($"{(certificate is null ? "no certificate" : "another CA's certificate")}: {refused.GetType().Name}: {refused.Message}");
            Assert.True(refused is IOException or AuthenticationException or SocketException, refused.ToString());
        }
    }

    [Fact]
    public async Task A_silo_whose_certificate_is_from_another_ca_cannot_join_and_the_cluster_keeps_serving()
    {
        using var otherCa = new TestClusterCa(cluster.File("tls-rogue"), "rogue-ca");
        using SiloProcess rogue = cluster.Silo("rogue", otherCa.Issue("rogue"));

        // It reaches Redis and sees the active silos, but no TLS handshake with them succeeds (each side refuses the
        // other's certificate). Whichever Orleans notices first ends it before it ever reports SERVING: its own join check
        // (the active silos did not answer within the join timeout: exit code 69, one line), or the active silos, which
        // cannot probe it, declaring it dead (the silo then ends itself: one line, exit code 75, DeclaredDeadSiloTests).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        SiloExitedException exited = await Assert.ThrowsAsync<SiloExitedException>(rogue.StartOnceAsync);
        output.WriteLine($"the rogue silo exited with {exited.ExitCode} after {clock.Elapsed.TotalSeconds:0} s");

        string members = cluster.Redis.Cli("--scan", "--pattern", "*members*");
        string table = string.Join('\n', members.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(k => cluster.Redis.Cli("hgetall", k)));
        output.WriteLine(table);
        Assert.True(exited.ExitCode is 69 or SiloFatalErrorHandler.ExitCode, exited.Message);
        Assert.Contains(exited.ExitCode == 69
            ? "error: the silos the membership table lists as active did not answer within the join timeout"
            : "error: the cluster declared this silo dead", exited.Message, StringComparison.Ordinal);
        Assert.All(cluster.Silos, silo => Assert.Contains($"127.0.0.1:{silo.SiloPort}", table, StringComparison.Ordinal));
        // Its entry was never Active (3); when the others declared it dead, it is Dead (6) with their votes.
        string rogueEntry = cluster.Redis.MembershipEntry(rogue.SiloPort);
        Assert.NotEqual("", rogueEntry);
        Assert.DoesNotContain("\"Status\":3", rogueEntry, StringComparison.Ordinal);
        if (exited.ExitCode == SiloFatalErrorHandler.ExitCode)
        {
            Assert.Contains("\"Status\":6", rogueEntry, StringComparison.Ordinal);
        }

        foreach (SiloProcess silo in cluster.Silos)
        {
            Assert.True(await silo.IsServingAsync(), $"{silo.Name} stopped serving after the rogue silo's attempt");
        }
    }

    /// <summary>A TLS client handshake with the silo port, which must present a certificate of <paramref name="authority"/>.</summary>
    private static async Task<SslStream> HandshakeAsync(int port, X509Certificate2? certificate, X509Certificate2 authority)
    {
        var client = new TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
        // Host names are not checked between silos (pod IPs change): the chain to the cluster CA is.
        var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false,
            (_, presented, _, _) => presented is not null && IssuedBy(new X509Certificate2(presented), authority));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "silo",
            ClientCertificates = certificate is null ? null : [certificate],
        }).WaitAsync(TimeSpan.FromSeconds(20));
        return tls;
    }

    private static bool IssuedBy(X509Certificate2 certificate, X509Certificate2 authority)
    {
        using (certificate)
        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate);
        }
    }

    /// <summary>
    /// A handshake and a read: with TLS 1.3 the client's handshake can complete before the server has judged the client's
    /// certificate, so the refusal shows on the first read (an alert or the end of the stream).
    /// </summary>
    private static async Task ExchangeAsync(int port, X509Certificate2? certificate, X509Certificate2 authority)
    {
        await using SslStream tls = await HandshakeAsync(port, certificate, authority);
        var buffer = new byte[1];
        int read = await tls.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        if (read == 0)
        {
            throw new IOException("the silo closed the connection");
        }
    }
}
