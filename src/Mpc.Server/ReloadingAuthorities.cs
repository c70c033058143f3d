using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mpc.Server;

/// <summary>
/// The CA certificates a peer's certificate must chain to, from a PEM file that is rewritten in place (a mounted Secret
/// whose <c>ca.crt</c> gains a new CA, or loses a withdrawn one): each check looks at the file at most once per
/// <see cref="FileRecheck.Interval"/> and, when its content changed, reads it again, as <see cref="ReloadingCertificate"/>
/// does for a certificate. So a CA rotation needs no restart, and neither does taking a CA out of trust.
/// <para>
/// A changed file that holds no CA certificate (half-written, emptied, unreadable) leaves the current CAs in place, is
/// logged once as a warning, and is tried again at the next check: a broken file never leaves a silo trusting nothing,
/// nor anything more than the file says.
/// </para>
/// </summary>
public sealed class ReloadingAuthorities : IDisposable
{
    private readonly string _setting;
    private readonly string _path;
    private readonly FileRecheck _recheck;
    private ILogger _logger = NullLogger.Instance;
    private volatile Loaded _current;
    private byte[]? _refused;

    private ReloadingAuthorities(string setting, string path, TimeProvider time, Loaded current)
    {
        _setting = setting;
        _path = path;
        _recheck = new FileRecheck(time);
        _current = current;
    }

    /// <summary>The current CAs; looks at the file first when a check is due. Callers must not dispose or change them.</summary>
    public X509Certificate2Collection Current
    {
        get
        {
            _recheck.IfDue(Refresh);
            return _current.Authorities;
        }
    }

    /// <summary>The CAs of the file <paramref name="setting"/> names, or null with a problem line (unreadable, no PEM CA certificate).</summary>
    public static ReloadingAuthorities? TryLoad(string setting, string path, TimeProvider time, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(problems);
        return TlsFiles.ReadFile(setting, path, problems) is { } file && Read(setting, path, file, problems) is { } loaded
            ? new ReloadingAuthorities(setting, path, time, loaded)
            : null;
    }

    /// <summary>
    /// Whether <paramref name="certificate"/> chains to one of the current CAs, with those as the only roots
    /// (<see cref="TlsFiles.ChainsTo"/>).
    /// </summary>
    public bool Issued(X509Certificate2 certificate, X509Chain? presented) => TlsFiles.ChainsTo(Current, certificate, presented);

    /// <summary>Where a change of the file is reported (<see cref="ReloadingCertificate.LogTo"/>).</summary>
    public void LogTo(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
    }

    /// <summary>Disposes the current CAs; replaced ones are left to the finalizer, as a check may still be using them.</summary>
    public void Dispose() => TlsFiles.Dispose(_current.Authorities);

    private void Refresh()
    {
        var problems = new List<string>();
        byte[]? file = TlsFiles.ReadFile(_setting, _path, problems);
        if (file is not null && file.AsSpan().SequenceEqual(_current.File))
        {
            _refused = null;
            return;
        }
        if (file is not null && Read(_setting, _path, file, problems) is { } changed)
        {
            _current = changed;
            _refused = null;
            _logger.LogInformation("Loaded the changed CAs of {Setting} ({Subjects}); new connections are checked against them",
                _setting, Subjects(changed.Authorities));
            return;
        }
        // Once per state of the file: a half-written change is one line, not one every few seconds until it is complete.
        byte[] refused = file ?? [];
        if (_refused is null || !refused.AsSpan().SequenceEqual(_refused))
        {
            _refused = refused;
            _logger.LogWarning(
                "Kept the current CAs of {Setting} ({Subjects}): the file changed but does not load ({Problems}); trying again every {Seconds} s",
                _setting, Subjects(_current.Authorities), string.Join("; ", problems), FileRecheck.Interval.TotalSeconds);
        }
    }

    private static Loaded? Read(string setting, string path, byte[] file, List<string> problems)
    {
        var authorities = new X509Certificate2Collection();
        int before = problems.Count;
        TlsFiles.ParseAuthorities(setting, path, System.Text.Encoding.UTF8.GetString(file), authorities, problems);
        if (problems.Count > before)
        {
            TlsFiles.Dispose(authorities);
            return null;
        }
        return new Loaded(file, authorities);
    }

    private static string Subjects(X509Certificate2Collection authorities) =>
        string.Join(", ", authorities.Select(ca => ca.Subject));

    /// <summary>What one read produced: the file's bytes (to notice a change) and its CAs.</summary>
    private sealed record Loaded(byte[] File, X509Certificate2Collection Authorities);
}
