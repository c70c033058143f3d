using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Mpc.Server;

/// <summary>
/// TLS to Redis with a private CA: Redis's certificate must chain to a CA of <see cref="ClusterRedisOptions.CaPath"/>,
/// those CAs alone (a certificate any public CA issued for the host is refused), and must name the host the connection
/// string gives (sslHost, else the endpoint). Optionally this silo's client certificate for Redis's tls-auth-clients.
/// Redis holds each key's status record: whoever can rewrite it on the way can undo a freeze (docs/service.md).
/// </summary>
public sealed class RedisTls : IDisposable
{
    private readonly ReloadingAuthorities _authorities;
    private readonly ReloadingCertificate? _clientCertificate;

    private RedisTls(ReloadingAuthorities authorities, ReloadingCertificate? clientCertificate)
    {
        _authorities = authorities;
        _clientCertificate = clientCertificate;
    }

    /// <summary>
    /// The certificate this silo presents to Redis, with its private key (the renewed one once its files are rewritten:
    /// <see cref="ReloadingCertificate"/>); null without one.
    /// </summary>
    public X509Certificate2? ClientCertificate => _clientCertificate?.Certificate;

    /// <summary>
    /// Reads and checks the files of <paramref name="options"/> (<see cref="ClusterRedisOptions.CaPath"/> set); throws
    /// <see cref="ServerStartupException"/> with one line per problem. No line carries a key's bytes. Both files are looked
    /// at again as connections are made (<see cref="ReloadingAuthorities"/>, <see cref="ReloadingCertificate"/>), so a
    /// renewal or a CA rotation needs no restart.
    /// </summary>
    public static RedisTls Load(ClusterRedisOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var problems = new List<string>();
        ReloadingAuthorities? authorities = null;
        ReloadingCertificate? certificate = null;
        try
        {
            authorities = ReloadingAuthorities.TryLoad(ClusterRedisOptions.CaPathSetting, options.CaPath!, time, problems);
            if (options.HasClientCertificate)
            {
                var files = new CertificateFiles(ClusterRedisOptions.CertificatePathSetting, options.CertificatePath!, ClusterRedisOptions.KeyPathSetting, options.KeyPath!);
                certificate = ReloadingCertificate.TryLoad(
                    files, (loaded, found) => CheckClientCertificate(loaded, options.CertificatePath!, time, found), time, problems);
            }
            if (problems.Count > 0)
            {
                throw new ServerStartupException(string.Join('\n', problems));
            }
            return new RedisTls(authorities!, certificate);
        }
        catch
        {
            certificate?.Dispose();
            authorities?.Dispose();
            throw;
        }
    }

    /// <summary>Where a renewal this silo cannot use, and a change of the CA file, are reported (<see cref="ReloadingCertificate.LogTo"/>).</summary>
    public void LogTo(ILogger logger)
    {
        _authorities.LogTo(logger);
        _clientCertificate?.LogTo(logger);
    }

    /// <summary>Sets the server check and, with a client certificate, its selection on <paramref name="redis"/> (which must say ssl=true).</summary>
    public void Apply(ConfigurationOptions redis)
    {
        ArgumentNullException.ThrowIfNull(redis);
        redis.CertificateValidation += (_, certificate, chain, errors) => IsTrustedServer(certificate, chain, errors);
        if (_clientCertificate is { } client)
        {
            // Each new connection (a reconnect included) gets the current certificate.
            redis.CertificateSelection += (_, _, _, _, _) => client.Certificate;
        }
    }

    /// <summary>
    /// Whether Redis's <paramref name="certificate"/> chains to one of the CAs, with those as the only roots, and the TLS
    /// layer found nothing else wrong (a name that is not the host's, no certificate). The TLS layer's chain verdict,
    /// made against the system's roots, is not used: with it, any public CA could vouch for the Redis host.
    /// </summary>
    public bool IsTrustedServer(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
        && certificate is X509Certificate2 server
        && _authorities.Issued(server, chain);

    public void Dispose()
    {
        _clientCertificate?.Dispose();
        _authorities.Dispose();
    }

    private static void CheckClientCertificate(X509Certificate2 certificate, string path, TimeProvider time, List<string> problems)
    {
        string setting = $"setting {ClusterRedisOptions.CertificatePathSetting}='{path}'";
        if (TlsFiles.ValidityProblem(certificate, setting, time) is { } invalid)
        {
            problems.Add(invalid);
            return;
        }
        if (!TlsFiles.UsageAllows(certificate, TlsFiles.ClientAuthentication))
        {
            problems.Add($"{setting} holds a certificate whose extended key usage does not allow clientAuth; issue one that does");
        }
    }
}
