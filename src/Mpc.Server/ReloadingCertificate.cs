using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Mpc.Server;

/// <summary>A PEM certificate file and the PEM file of its key, with the settings that name them (for problem lines).</summary>
public sealed record CertificateFiles(string CertificateSetting, string CertificatePath, string KeySetting, string KeyPath);

/// <summary>
/// A certificate with its key, from PEM files that are renewed in place (cert-manager rewriting a mounted Secret):
/// each use looks at the certificate file at most once per <see cref="CheckInterval"/> and, when its content changed,
/// loads both files again. New TLS connections then get the renewed certificate; open ones keep theirs.
/// <para>
/// The content is compared, not a file time: Kubernetes updates a Secret by pointing the <c>..data</c> symlink at a new
/// directory, so the path stays the same, its times may not change and a file watcher on it sees nothing. A renewal
/// always changes the certificate (a new serial), so its bytes are the signal; the key follows it.
/// </para>
/// <para>
/// Renewed files that do not load (half-written, a key that is not the certificate's, expired, not yet valid, refused
/// by the caller's check) leave the current certificate in place, are logged once as a warning naming the files and
/// the problem (never a key's bytes or a parser's message), and are tried again at the next check.
/// </para>
/// </summary>
public sealed class ReloadingCertificate : IDisposable
{
    /// <summary>How often, at most, the files are looked at: a renewal is served within this much of being written.</summary>
    public static readonly TimeSpan CheckInterval = MountedFile<Loaded>.Interval;

    private readonly MountedFile<Loaded> _file;

    private ReloadingCertificate(MountedFile<Loaded> file) => _file = file;

    /// <summary>The current certificate, with its private key; looks at the files first when a check is due.</summary>
    public X509Certificate2 Certificate => _file.Current.Certificate;

    /// <summary>The current certificate with the intermediates its file holds, ready for a TLS handshake; looks at the files first when a check is due.</summary>
    public SslStreamCertificateContext Context => _file.Current.Context;

    /// <summary>
    /// Reads the files, or throws <see cref="ServerStartupException"/> with one line per problem. <paramref name="check"/>
    /// adds a line for a certificate the caller cannot use (validity, key usage, issuer), at start-up and on every renewal.
    /// </summary>
    public static ReloadingCertificate Load(CertificateFiles files, Action<X509Certificate2, List<string>> check, TimeProvider time)
    {
        var problems = new List<string>();
        return TryLoad(files, check, time, problems) ?? throw new ServerStartupException(string.Join('\n', problems));
    }

    /// <summary>As <see cref="Load"/>, with the problems added to <paramref name="problems"/> and null returned.</summary>
    public static ReloadingCertificate? TryLoad(CertificateFiles files, Action<X509Certificate2, List<string>> check, TimeProvider time, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(problems);
        return MountedFile<Loaded>.TryLoad(files.CertificateSetting, files.CertificatePath, "certificate",
            (file, found) => Read(files, file, check, found), Describe, time, problems) is { } loaded
            ? new ReloadingCertificate(loaded)
            : null;
    }

    /// <summary>
    /// Where a failed renewal is reported. The certificate is loaded before the application's logging exists (so that a
    /// bad file stops start-up in one line), and no connection, hence no renewal, comes before the host sets this.
    /// </summary>
    public void LogTo(ILogger logger) => _file.LogTo(logger);

    /// <summary>
    /// Disposes the current certificate. Replaced ones are not disposed when replaced: a handshake that started with one
    /// may still be using it; the finalizer releases them (a renewal comes every few weeks).
    /// </summary>
    public void Dispose() => _file.Loaded.Certificate.Dispose();

    private static string Describe(Loaded loaded) =>
        $"serial {loaded.Certificate.SerialNumber}, valid until {loaded.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z";

    private static Loaded? Read(CertificateFiles files, byte[] file, Action<X509Certificate2, List<string>> check, List<string> problems)
    {
        string pem = System.Text.Encoding.UTF8.GetString(file);
        using X509Certificate2? publicOnly = TlsFiles.ParseCertificate(files.CertificateSetting, files.CertificatePath, pem, problems);
        if (publicOnly is null
            || TlsFiles.WithKey(publicOnly, files.CertificateSetting, files.KeySetting, files.KeyPath, problems) is not { } certificate)
        {
            return null;
        }
        int before = problems.Count;
        check(certificate, problems);
        X509Certificate2Collection? intermediates = problems.Count == before ? Intermediates(files, pem, certificate, problems) : null;
        if (intermediates is null)
        {
            certificate.Dispose();
            return null;
        }
        // Built once per certificate, offline: a handshake then sends the chain of the file (cert-manager's tls.crt holds
        // the issuer after the leaf) without building it again or fetching anything.
        return new Loaded(certificate, SslStreamCertificateContext.Create(certificate, intermediates, offline: true));
    }

    /// <summary>The certificates of the file after the leaf, or null with a problem when one does not parse.</summary>
    private static X509Certificate2Collection? Intermediates(CertificateFiles files, string pem, X509Certificate2 leaf, List<string> problems)
    {
        var all = new X509Certificate2Collection();
        try
        {
            all.ImportFromPem(pem);
        }
        catch (CryptographicException)
        {
            TlsFiles.Dispose(all);
            problems.Add($"setting {files.CertificateSetting}='{files.CertificatePath}' holds a certificate after the first that does not parse");
            return null;
        }
        var intermediates = new X509Certificate2Collection();
        foreach (X509Certificate2 certificate in all)
        {
            if (certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
            {
                certificate.Dispose();
            }
            else
            {
                intermediates.Add(certificate);
            }
        }
        return intermediates;
    }

    /// <summary>What one load produced: the certificate and its handshake context.</summary>
    private sealed record Loaded(X509Certificate2 Certificate, SslStreamCertificateContext Context);
}
