using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Mpc.Server;

/// <summary>
/// The CA certificates a peer's certificate must chain to, from a PEM file that is rewritten in place (a mounted Secret
/// whose <c>ca.crt</c> gains a new CA, or loses a withdrawn one): each check looks at the file at most once per
/// five seconds and, when its content changed, reads it again, as <see cref="ReloadingCertificate"/>
/// does for a certificate. So a CA rotation needs no restart, and neither does taking a CA out of trust.
/// <para>
/// A changed file that holds no CA certificate (half-written, emptied, unreadable) leaves the current CAs in place, is
/// logged once as a warning, and is tried again at the next check: a broken file never leaves a silo trusting nothing,
/// nor anything more than the file says.
/// </para>
/// </summary>
public sealed class ReloadingAuthorities : IDisposable
{
    private readonly MountedFile<X509Certificate2Collection> _file;

    private ReloadingAuthorities(MountedFile<X509Certificate2Collection> file) => _file = file;

    /// <summary>The current CAs; looks at the file first when a check is due. Callers must not dispose or change them.</summary>
    public X509Certificate2Collection Current => _file.Current;

    /// <summary>The CAs of the file <paramref name="setting"/> names, or null with a problem line (unreadable, no PEM CA certificate).</summary>
    public static ReloadingAuthorities? TryLoad(string setting, string path, TimeProvider time, List<string> problems) =>
        MountedFile<X509Certificate2Collection>.TryLoad(setting, path, "CAs", (file, found) => Read(setting, path, file, found), Subjects, time, problems) is { } loaded
            ? new ReloadingAuthorities(loaded)
            : null;

    /// <summary>
    /// Whether <paramref name="certificate"/> chains to one of the current CAs, with those as the only roots
    /// (<see cref="TlsFiles.ChainsTo"/>).
    /// </summary>
    public bool Issued(X509Certificate2 certificate, X509Chain? presented) => TlsFiles.ChainsTo(Current, certificate, presented);

    /// <summary>Where a change of the file is reported (<see cref="ReloadingCertificate.LogTo"/>).</summary>
    public void LogTo(ILogger logger) => _file.LogTo(logger);

    /// <summary>Disposes the current CAs; replaced ones are left to the finalizer, as a check may still be using them.</summary>
    public void Dispose() => TlsFiles.Dispose(_file.Loaded);

    private static X509Certificate2Collection? Read(string setting, string path, byte[] file, List<string> problems)
    {
        var authorities = new X509Certificate2Collection();
        int before = problems.Count;
        TlsFiles.ParseAuthorities(setting, path, System.Text.Encoding.UTF8.GetString(file), authorities, problems);
        if (problems.Count > before)
        {
            TlsFiles.Dispose(authorities);
            return null;
        }
        return authorities;
    }

    private static string Subjects(X509Certificate2Collection authorities) => string.Join(", ", authorities.Select(ca => ca.Subject));
}
