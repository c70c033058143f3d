using System.Security.Cryptography.X509Certificates;
using Mpc.Server;

namespace Mpc.Server.Tests.Configuration;

/// <summary>
/// A certificate renewed in place (cert-manager rewriting a mounted Secret) is served after the next check without a
/// restart; renewed files that do not load leave the current certificate in place with one warning.
/// </summary>
public sealed class ReloadingCertificateTests : IDisposable
{
    private readonly TempDirectory _root = new("mpc-reload-");
    private readonly TestClusterCa _ca;
    private readonly ManualTime _time = new(DateTimeOffset.UtcNow);
    private readonly CapturedWarnings _warnings = new();

    public ReloadingCertificateTests()
    {
        _ca = new TestClusterCa(_root.File("ca"));
    }

    public void Dispose()
    {
        _ca.Dispose();
        _root.Dispose();
    }

    [Fact]
    public void Renewed_files_are_served_once_the_check_interval_has_passed()
    {
        SiloTlsFiles first = _ca.Issue("server");
        using ReloadingCertificate certificate = Load(first, out string served);

        SiloTlsFiles renewed = _ca.Issue("server"); // the same two paths, rewritten
        Assert.Equal(first.CertificatePath, renewed.CertificatePath);
        _time.Now += ReloadingCertificate.CheckInterval / 2;
        Assert.Equal(served, certificate.Certificate.SerialNumber);

        _time.Now += ReloadingCertificate.CheckInterval;
        Assert.Equal(SerialAt(renewed.CertificatePath), certificate.Certificate.SerialNumber);
        Assert.NotEqual(served, certificate.Certificate.SerialNumber);
        Assert.True(certificate.Certificate.HasPrivateKey);
        Assert.Equal(certificate.Certificate.Thumbprint, certificate.Context.TargetCertificate.Thumbprint);
        Assert.Empty(_warnings.Containing(""));
    }

    [Fact]
    public void A_half_written_renewal_keeps_the_current_certificate_with_one_warning_until_the_key_arrives()
    {
        SiloTlsFiles live = _ca.Issue("server");
        using ReloadingCertificate certificate = Load(live, out string served);
        SiloTlsFiles next = _ca.Issue("next");

        // The certificate is written, its key not yet: the old key is not the new certificate's.
        File.Copy(next.CertificatePath, live.CertificatePath, overwrite: true);
        for (int check = 0; check < 3; check++)
        {
            _time.Now += ReloadingCertificate.CheckInterval;
            Assert.Equal(served, certificate.Certificate.SerialNumber);
        }
        string warning = Assert.Single(_warnings.Containing("Kept the current certificate"));
        Assert.Contains($"setting Key='{live.KeyPath}' holds no unencrypted PEM private key", warning, StringComparison.Ordinal);
        Assert.DoesNotContain(File.ReadAllText(live.KeyPath).Split('\n')[1], warning, StringComparison.Ordinal);

        File.Copy(next.KeyPath, live.KeyPath, overwrite: true);
        _time.Now += ReloadingCertificate.CheckInterval;
        Assert.Equal(SerialAt(next.CertificatePath), certificate.Certificate.SerialNumber);
        Assert.Single(_warnings.Containing("Kept the current certificate"));
    }

    [Fact]
    public void A_renewal_the_check_refuses_and_a_truncated_file_keep_the_current_certificate()
    {
        SiloTlsFiles live = _ca.Issue("server");
        using ReloadingCertificate certificate = Load(live, out string served);

        SiloTlsFiles expired = _ca.Issue("expired", notAfter: DateTimeOffset.UtcNow.AddMinutes(-1));
        File.Copy(expired.CertificatePath, live.CertificatePath, overwrite: true);
        File.Copy(expired.KeyPath, live.KeyPath, overwrite: true);
        _time.Now += ReloadingCertificate.CheckInterval;
        Assert.Equal(served, certificate.Certificate.SerialNumber);
        Assert.Contains("has expired", Assert.Single(_warnings.Containing("Kept the current certificate")), StringComparison.Ordinal);

        string text = File.ReadAllText(_ca.Issue("truncated").CertificatePath);
        File.WriteAllText(live.CertificatePath, text[..(text.Length / 2)]);
        _time.Now += ReloadingCertificate.CheckInterval;
        Assert.Equal(served, certificate.Certificate.SerialNumber);
        Assert.Contains("holds no PEM certificate", _warnings.Containing("Kept the current certificate").Last(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_kubernetes_secret_update_that_swaps_the_data_symlink_is_picked_up()
    {
        // The layout of a mounted Secret: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/; an update writes a new
        // timestamped directory and renames a new ..data link over the old one, then deletes the old directory.
        string mount = _root.Subdirectory("mount");
        string first = WriteVersion(mount, "..2026_12_03_10_00_00.1", _ca.Issue("server-v1"));
        File.CreateSymbolicLink(Path.Combine(mount, "..data"), Path.GetFileName(first));
        File.CreateSymbolicLink(Path.Combine(mount, "tls.crt"), Path.Combine("..data", "tls.crt"));
        File.CreateSymbolicLink(Path.Combine(mount, "tls.key"), Path.Combine("..data", "tls.key"));
        using ReloadingCertificate certificate = Load(new SiloTlsFiles(Path.Combine(mount, "tls.crt"), Path.Combine(mount, "tls.key"), _ca.CaPath));
        Assert.Equal(SerialAt(Path.Combine(first, "tls.crt")), certificate.Certificate.SerialNumber);

        string second = WriteVersion(mount, "..2026_12_03_11_00_00.2", _ca.Issue("server-v2"));
        string newLink = Path.Combine(mount, "..data_tmp");
        File.CreateSymbolicLink(newLink, Path.GetFileName(second));
        Rename(newLink, Path.Combine(mount, "..data"));
        Directory.Delete(first, recursive: true);
        _time.Now += ReloadingCertificate.CheckInterval;

        Assert.Equal(SerialAt(Path.Combine(second, "tls.crt")), certificate.Certificate.SerialNumber);
        Assert.Empty(_warnings.Containing(""));
    }

    [Fact]
    public void Files_that_do_not_load_at_start_up_are_one_line_each()
    {
        SiloTlsFiles files = _ca.Issue("server");
        SiloTlsFiles other = _ca.Issue("other");
        var e = Assert.Throws<ServerStartupException>(() => Load(files with { KeyPath = other.KeyPath }));
        Assert.Equal(
            $"setting Key='{other.KeyPath}' holds no unencrypted PEM private key (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY) of the certificate in Certificate",
            Assert.Single(e.Problems));
    }

    /// <summary><see cref="Load(SiloTlsFiles)"/>, with the serial of the certificate it serves first.</summary>
    private ReloadingCertificate Load(SiloTlsFiles files, out string served)
    {
        ReloadingCertificate certificate = Load(files);
        served = certificate.Certificate.SerialNumber;
        return certificate;
    }

    private ReloadingCertificate Load(SiloTlsFiles files)
    {
        var certificate = ReloadingCertificate.Load(
            new CertificateFiles("Certificate", files.CertificatePath, "Key", files.KeyPath),
            (loaded, problems) =>
            {
                if (loaded.NotAfter.ToUniversalTime() < _time.GetUtcNow().UtcDateTime)
                {
                    problems.Add("the certificate has expired");
                }
            },
            _time);
        certificate.LogTo(_warnings.Provider().CreateLogger(nameof(ReloadingCertificate)));
        return certificate;
    }

    private static string WriteVersion(string mount, string name, SiloTlsFiles files)
    {
        string directory = Directory.CreateDirectory(Path.Combine(mount, name)).FullName;
        File.Copy(files.CertificatePath, Path.Combine(directory, "tls.crt"));
        File.Copy(files.KeyPath, Path.Combine(directory, "tls.key"));
        return directory;
    }

    /// <summary>rename(2) of one symlink over another, as the kubelet's atomic writer does (mv -T, not into the linked directory).</summary>
    private static void Rename(string from, string to)
    {
        using var mv = System.Diagnostics.Process.Start("mv", ["-T", from, to])!;
        mv.WaitForExit();
        Assert.Equal(0, mv.ExitCode);
    }

    private static string SerialAt(string path)
    {
        using X509Certificate2 certificate = X509Certificate2.CreateFromPem(File.ReadAllText(path));
        return certificate.SerialNumber;
    }
}
