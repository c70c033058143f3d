using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Mpc.Client;

/// <summary>
/// The client's transport rules: TLS with certificate validation, plain http only to loopback unless the caller
/// explicitly allows it (<see cref="MpcSignerClientOptions.AllowInsecureHttp"/>), and then a warning on every call.
/// </summary>
internal static partial class TransportSecurity
{
    /// <summary>Where the SDK's refusal and warning point the reader.</summary>
    internal const string AllowOption = nameof(MpcSignerClientOptions) + "." + nameof(MpcSignerClientOptions.AllowInsecureHttp);

    /// <summary>
    /// Refuses (before any name is resolved) an http address whose host is not a loopback literal or "localhost",
    /// unless <paramref name="options"/> allows it; refuses every scheme but http and https. Returns the address.
    /// </summary>
    public static Uri Check(Uri server, MpcSignerClientOptions? options)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (!server.IsAbsoluteUri || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The server address must be an absolute http(s) URL, not '{server}'.", nameof(server));
        }
        if (server.Scheme == Uri.UriSchemeHttp && !server.IsLoopback && options?.AllowInsecureHttp != true)
        {
            throw new ArgumentException(
                $"Refusing plain http to {server.Host}: tokens and refresh randomisers would travel in clear. Use https, or set {AllowOption} to accept the risk.",
                nameof(server));
        }
        return server;
    }

    /// <summary>True when calls to <paramref name="server"/> travel in clear over a network (http, not loopback).</summary>
    public static bool IsInsecure(Uri server) => server.Scheme == Uri.UriSchemeHttp && !server.IsLoopback;

    public static void WarnInsecure(ILogger? logger, string target)
    {
        if (logger is not null)
        {
            LogInsecure(logger, target, AllowOption);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Calling {Target} over plain http ({Option} is set): the bearer token and refresh/import randomisers travel in clear")]
    private static partial void LogInsecure(ILogger logger, string target, string option);

    /// <summary>
    /// The caller's handler, or one that trusts only <see cref="MpcSignerClientOptions.TrustedCaCertificates"/>
    /// (chain, validity and host name still checked), or null for the platform default.
    /// </summary>
    public static HttpMessageHandler? Handler(MpcSignerClientOptions? options)
    {
        if (options?.HttpHandler is { } given)
        {
            return given;
        }
        if (options?.TrustedCaCertificates is not { Count: > 0 } roots)
        {
            return null;
        }
        var trusted = new X509Certificate2Collection();
        foreach (X509Certificate2 root in roots)
        {
            trusted.Add(X509CertificateLoader.LoadCertificate(root.RawData));
        }
        return new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, trusted),
            },
        };
    }

    /// <summary>
    /// Accepts a certificate that names the host and chains to one of <paramref name="roots"/> (and only those):
    /// the platform's verdict is overridden only for the untrusted-root case, never for a name mismatch.
    /// </summary>
    internal static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}
