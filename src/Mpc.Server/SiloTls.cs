using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Orleans.Connections.Security;

namespace Mpc.Server;

/// <summary>
/// Mutual TLS on the silo port (Redis mode): this silo's certificate with its key, and the cluster CA(s) a peer's
/// certificate must chain to. Both directions authenticate: the silo that accepts a connection requires the caller's
/// certificate, and the caller checks the acceptor's, each against the cluster CAs alone (no system roots). Host names
/// are not checked: silos reach each other by pod IP, which changes on every restart, so membership of the cluster is
/// "holds a key whose certificate a cluster CA issued" and that CA must issue certificates to signer silos only.
/// </summary>
public sealed class SiloTls : IDisposable
{
    private readonly ReloadingCertificate _certificate;
    private readonly ReloadingAuthorities _authorities;

    private SiloTls(ReloadingCertificate certificate, ReloadingAuthorities authorities)
    {
        _certificate = certificate;
        _authorities = authorities;
    }

    /// <summary>This silo's certificate, with its key: the renewed one once its files are rewritten (<see cref="ReloadingCertificate"/>).</summary>
    public X509Certificate2 Certificate => _certificate.Certificate;

    /// <summary>
    /// Reads and checks the three files of <paramref name="options"/>; throws <see cref="ServerStartupException"/> with
    /// one line per problem (a file that cannot be read or holds no PEM of its kind, a key that is not the certificate's,
    /// a certificate that is expired, not for TLS client and server use, or not issued by one of the CAs). No line
    /// carries a key's bytes or a parser's message about them. A renewed certificate passes the same checks, against the
    /// CAs of the file as it is then (<see cref="ReloadingAuthorities"/>: a rotation adds a CA, then certificates it issued).
    /// </summary>
    public static SiloTls Load(ClusterTlsOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var problems = new List<string>();
        var authorityProblems = new List<string>();
        ReloadingCertificate? certificate = null;
        ReloadingAuthorities? authorities = null;
        try
        {
            // The CAs first, for the certificate's check; their problems after the certificate's, as an operator reads the settings.
            authorities = ReloadingAuthorities.TryLoad(ClusterTlsOptions.CaPathSetting, options.CaPath!, time, authorityProblems);
            var files = new CertificateFiles(ClusterTlsOptions.CertificatePathSetting, options.CertificatePath!, ClusterTlsOptions.KeyPathSetting, options.KeyPath!);
            certificate = ReloadingCertificate.TryLoad(
                files, (loaded, found) => CheckCertificate(loaded, options.CertificatePath!, authorities, time, found), time, problems);
            problems.AddRange(authorityProblems);
            if (problems.Count > 0)
            {
                throw new ServerStartupException(string.Join('\n', problems));
            }
            return new SiloTls(certificate!, authorities!);
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
        _certificate.LogTo(logger);
        _authorities.LogTo(logger);
    }

    /// <summary>Orleans' TLS options: this certificate both ways, a peer certificate required both ways and checked by <see cref="IsTrustedPeer"/>.</summary>
    public void Configure(TlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Orleans checks at start-up that a certificate for client use is set; the selectors then give each new
        // connection, accepted or made, the current one, so a renewal needs no restart.
        options.LocalCertificate = Certificate;
        options.LocalServerCertificateSelector = (_, _) => _certificate.Certificate;
        options.LocalClientCertificateSelector = (_, _, _, _, _) => _certificate.Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        // Orleans' default (AllowCertificate) would silently connect without a client certificate the certificate's
        // extended key usage does not allow; Load has checked it does, and this keeps it required.
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.CheckCertificateRevocation = false;
        options.RemoteCertificateValidation = (peer, presented, _) => IsTrustedPeer(peer, presented);
    }

    /// <summary>
    /// Whether <paramref name="peer"/> chains to one of the cluster CAs, with those as the only roots (the TLS layer's own
    /// verdict, made against the system's roots and the host name, is not used). Intermediates the peer sent are used to
    /// build the chain, never as anchors. No revocation check: a private cluster CA publishes no CRL; rotate the CA to
    /// withdraw a certificate (docs/operations.md, TLS). The CAs are those of the file as it is now (<see cref="ReloadingAuthorities"/>).
    /// </summary>
    public bool IsTrustedPeer(X509Certificate2 peer, X509Chain? presented)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return _authorities.Issued(peer, presented);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _authorities.Dispose();
    }

    private static void CheckCertificate(X509Certificate2 certificate, string path, ReloadingAuthorities? authorities, TimeProvider time, List<string> problems)
    {
        string setting = $"setting {ClusterTlsOptions.CertificatePathSetting}='{path}'";
        if (TlsFiles.ValidityProblem(certificate, setting, time) is { } invalid)
        {
            problems.Add(invalid);
            return;
        }
        // The same silo accepts connections and makes them: the certificate serves as TLS server and as TLS client.
        if (!TlsFiles.UsageAllows(certificate, TlsFiles.ServerAuthentication, TlsFiles.ClientAuthentication))
        {
            problems.Add($"{setting} holds a certificate whose extended key usage does not allow both serverAuth and clientAuth; issue one with both");
            return;
        }
        // Peers check this silo's certificate against the same CAs: a certificate they would refuse is refused here, in one
        // line. Without readable CAs at start-up, that file's own line says so.
        if (authorities is not null && !authorities.Issued(certificate, presented: null))
        {
            problems.Add($"{setting} holds a certificate not issued by a CA of {ClusterTlsOptions.CaPathSetting}; the other silos would refuse it");
        }
    }
}
