using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;

namespace Mpc.Server;

/// <summary>One listen URL of <see cref="MpcServerOptions.Urls"/>: its scheme (lower case), its host as written and its port (-1 for a Unix socket).</summary>
internal sealed record ListenUrl(string Url, string Scheme, string Host, int Port);

/// <summary>
/// The listen URLs (Kestrel's syntax: scheme://host:port, host "*" or "+" for every address, "localhost" for
/// loopback) and the start-up check that a fixed port is free. The check runs before the silo starts, so a
/// port in use is one line, not a failed start followed by the silo's shutdown in the log.
/// </summary>
internal static class ListenUrls
{
    private const string Remedy = "choose another with --urls or Mpc__Urls";
    private const string KestrelEndpoints = "Kestrel:Endpoints";
    internal const string DefaultCertificate = "Kestrel:Certificates:Default";
    private static readonly string DefaultCertificatePath = ServerSettings.EnvironmentVariable(DefaultCertificate + ":Path");

    public static bool TryParse(string? urls, out ImmutableArray<ListenUrl> parsed)
    {
        parsed = [];
        if (string.IsNullOrWhiteSpace(urls))
        {
            return false;
        }
        var list = ImmutableArray.CreateBuilder<ListenUrl>();
        foreach (string url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (TryParseOne(url) is not { } one)
            {
                return false;
            }
            list.Add(one);
        }
        parsed = list.ToImmutable();
        return parsed.Length > 0;
    }

    /// <summary>
    /// Refuses, one line each, the Kestrel settings that would undo <paramref name="urls"/>: Kestrel__Endpoints replace
    /// every listen URL (and with them the metrics and gRPC-Web ports and the plain-http rule); an https:// URL without
    /// Kestrel__Certificates__Default would fall back to the developer certificate, or fail with a stack trace once the
    /// silo is already up.
    /// </summary>
    public static void EnsureKestrelAgrees(IConfiguration configuration, string urls)
    {
        var problems = new List<string>();
        foreach (IConfigurationSection endpoint in configuration.GetSection(KestrelEndpoints).GetChildren())
        {
            problems.Add($"setting {ServerSettings.EnvironmentVariable(endpoint.Path)} is not supported: Kestrel endpoints replace Mpc__Urls " +
                $"(and with it the metrics and gRPC-Web ports); give the listen URLs in Mpc__Urls and an https:// URL's certificate in {DefaultCertificatePath}");
        }
        IConfigurationSection certificate = configuration.GetSection(DefaultCertificate);
        ListenUrl? https = TryParse(urls, out ImmutableArray<ListenUrl> parsed) ? parsed.FirstOrDefault(url => url.Scheme == "https") : null;
        if (https is not null && string.IsNullOrEmpty(certificate["Path"]) && string.IsNullOrEmpty(certificate["Subject"]))
        {
            problems.Add($"setting Mpc__Urls='{https.Url}' needs a certificate: set {DefaultCertificatePath} " +
                $"(a PEM certificate with its key in {ServerSettings.EnvironmentVariable(DefaultCertificate)}__KeyPath, or a .pfx with {ServerSettings.EnvironmentVariable(DefaultCertificate)}__Password)");
        }
        else if (https is not null)
        {
            // Kestrel opens these only once the silo is up, and then fails with a stack trace: say it first, in one line.
            foreach (string part in (string[])["Path", "KeyPath"])
            {
                if (certificate[part] is { Length: > 0 } file && Unreadable(file) is { } why)
                {
                    problems.Add($"setting {ServerSettings.EnvironmentVariable(DefaultCertificate + ":" + part)}='{file}' cannot be read: {why}");
                }
            }
        }
        if (problems.Count > 0)
        {
            throw new ServerStartupException(string.Join('\n', problems));
        }
    }

    private static string? Unreadable(string file)
    {
        try
        {
            using FileStream opened = File.OpenRead(file);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message.ReplaceLineEndings(" ");
        }
    }

    /// <summary>Throws <see cref="ServerStartupException"/> when a fixed port (not 0) of the URLs cannot be bound.</summary>
    public static void EnsureAvailable(string urls)
    {
        if (!TryParse(urls, out ImmutableArray<ListenUrl> parsed))
        {
            return; // the options validator has already refused it
        }
        foreach (ListenUrl url in parsed.Where(u => u.Port > 0))
        {
            IPAddress address = ProbeAddress(url.Host);
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (!OperatingSystem.IsWindows())
            {
                // As Kestrel does on Unix: a connection of a stopped server lingering in TIME_WAIT must not count as "in use".
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            try
            {
                socket.Bind(new IPEndPoint(address, url.Port));
            }
            catch (SocketException e)
            {
                throw new ServerStartupException(Describe(url, e.SocketErrorCode, e.Message), ServerStartupReason.InUse);
            }
        }
    }

    /// <summary>The one-line message for Kestrel's own bind failure (a port taken between the check and the start), or null.</summary>
    public static string? DescribeStartFailure(Exception e) =>
        e is IOException { InnerException: AddressInUseException } bindFailure
            ? $"{bindFailure.Message.TrimEnd('.')}; {Remedy}"
            : null;

    private static string Describe(ListenUrl url, SocketError error, string detail) => error switch
    {
        SocketError.AddressAlreadyInUse => $"port {url.Port} on {url.Host} is in use; {Remedy}",
        SocketError.AccessDenied => $"port {url.Port} on {url.Host} needs privileges this process does not have (ports below 1024); {Remedy}",
        SocketError.AddressNotAvailable => $"address {url.Host} of {url.Url} is not an address of this machine; {Remedy}",
        _ => $"cannot listen on port {url.Port} on {url.Host} ({detail}); {Remedy}",
    };

    /// <summary>
    /// The URLs reachable from other machines: on every address ("*", "+", 0.0.0.0, [::]), on a host name (Kestrel
    /// binds every address for a name other than localhost) or on a non-loopback address. A Unix socket is not.
    /// </summary>
    public static IEnumerable<ListenUrl> BeyondLoopback(string urls) =>
        TryParse(urls, out ImmutableArray<ListenUrl> parsed)
            ? parsed.Where(url => url.Port >= 0 && !IsLoopbackHost(url.Host))
            : [];

    /// <summary>The plain http:// URLs of <see cref="BeyondLoopback"/>.</summary>
    public static IEnumerable<ListenUrl> PlainHttpBeyondLoopback(string urls) =>
        BeyondLoopback(urls).Where(url => url.Scheme == "http");

    /// <summary>Whether Kestrel binds only loopback addresses for a host: localhost, 127.0.0.0/8 or [::1] (not "*", "+" or a name).</summary>
    public static bool IsLoopbackHost(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? address) && IPAddress.IsLoopback(address));

    /// <summary>The address Kestrel binds for a host: loopback for localhost, the address itself, else every address.</summary>
    private static IPAddress ProbeAddress(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }
        return IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? address) ? address : IPAddress.Any;
    }

    private static ListenUrl? TryParseOne(string url)
    {
        int schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return null;
        }
        string scheme = url[..schemeEnd].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            return null;
        }
        string rest = url[(schemeEnd + 3)..];
        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            return rest.Length > "unix:".Length ? new ListenUrl(url, scheme, "unix", -1) : null;
        }
        int pathStart = rest.IndexOf('/', StringComparison.Ordinal);
        string authority = pathStart >= 0 ? rest[..pathStart] : rest;
        string host;
        string? portText;
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return null;
            }
            host = authority[..(close + 1)];
            string after = authority[(close + 1)..];
            if (after.Length > 0 && !after.StartsWith(':'))
            {
                return null;
            }
            portText = after.Length > 0 ? after[1..] : null;
        }
        else
        {
            int colon = authority.LastIndexOf(':');
            host = colon >= 0 ? authority[..colon] : authority;
            portText = colon >= 0 ? authority[(colon + 1)..] : null;
        }
        if (host.Length == 0 || (host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[')))
        {
            return null;
        }
        int port = scheme == "https" ? 443 : 80;
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535))
        {
            return null;
        }
        return new ListenUrl(url, scheme, host, port);
    }
}
