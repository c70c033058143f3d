using System.Collections.Immutable;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;

namespace Mpc.Server;

/// <summary>
/// The certificate of the https:// listen URLs when Kestrel__Certificates__Default__Path and __KeyPath name PEM files:
/// read here rather than by Kestrel, so that a renewal of the files is served without a restart
/// (<see cref="ReloadingCertificate"/>). A .pfx (Path alone, or with a Password), an encrypted key (KeyPath with a
/// Password) or a store certificate (Subject) stays Kestrel's own, read at start-up only.
/// </summary>
internal static class HttpsCertificate
{
    /// <summary>The reloading certificate for <paramref name="urls"/>, or null when no https:// URL uses PEM files; throws <see cref="ServerStartupException"/> for files that do not load.</summary>
    public static ReloadingCertificate? Load(IConfiguration configuration, string urls, TimeProvider time)
    {
        IConfigurationSection settings = configuration.GetSection(ListenUrls.DefaultCertificate);
        bool https = ListenUrls.TryParse(urls, out ImmutableArray<ListenUrl> parsed) && parsed.Any(url => url.Scheme == "https");
        if (!https || settings["Path"] is not { Length: > 0 } path || settings["KeyPath"] is not { Length: > 0 } keyPath
            || !string.IsNullOrEmpty(settings["Password"]))
        {
            return null;
        }
        var files = new CertificateFiles(Setting("Path"), path, Setting("KeyPath"), keyPath);
        return ReloadingCertificate.Load(files, (certificate, problems) => Check(certificate, files.CertificateSetting, path, time, problems), time);
    }

    /// <summary>Every https:// endpoint presents <paramref name="certificate"/> as it is at each new connection.</summary>
    public static void Use(HttpsConnectionAdapterOptions https, ReloadingCertificate certificate)
    {
        // A selector keeps Kestrel from loading the default certificate itself, once; a selector alone would lose the
        // intermediates of the file (SslStream would build the chain from the system store at each handshake), so the
        // handshake is given the context built with them when the files were read.
        https.ServerCertificateSelector = (_, _) => certificate.Certificate;
        https.OnAuthenticate = (_, ssl) =>
        {
            ssl.ServerCertificateSelectionCallback = null;
            ssl.ServerCertificate = null;
            ssl.ServerCertificateContext = certificate.Context;
        };
    }

    private static void Check(X509Certificate2 certificate, string settingName, string path, TimeProvider time, List<string> problems)
    {
        string setting = $"setting {settingName}='{path}'";
        if (TlsFiles.ValidityProblem(certificate, setting, time) is { } invalid)
        {
            problems.Add(invalid);
        }
        else if (!TlsFiles.UsageAllows(certificate, TlsFiles.ServerAuthentication))
        {
            problems.Add($"{setting} holds a certificate whose extended key usage does not allow serverAuth; issue one with it");
        }
    }

    private static string Setting(string part) => ServerSettings.EnvironmentVariable(ListenUrls.DefaultCertificate + ":" + part);
}
