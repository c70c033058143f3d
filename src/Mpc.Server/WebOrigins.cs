using System.Collections.Immutable;

namespace Mpc.Server;

/// <summary>
/// The origins of <see cref="WebOptions.AllowedOrigins"/>, in the form browsers send in the Origin header (RFC 6454
/// serialization: lower-case scheme and host, the port only when it is not the scheme's default).
/// </summary>
public sealed class WebOrigins
{
    private const char Separator = ';';

    private WebOrigins(ImmutableArray<string> origins) => Origins = origins;

    /// <summary>None: gRPC-Web is off, and every request carrying an Origin header is refused.</summary>
    public static WebOrigins None { get; } = new([]);

    public ImmutableArray<string> Origins { get; }

    public bool IsEnabled => !Origins.IsEmpty;

    /// <summary>Parses the setting; false names nothing, so a bad value never reaches a log from here.</summary>
    public static bool TryParse(string? text, out WebOrigins origins)
    {
        origins = None;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }
        var parsed = ImmutableArray.CreateBuilder<string>();
        foreach (string part in text.Split(Separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Normalize(part) is not { } origin || !IsSecureEnough(origin))
            {
                return false;
            }
            if (!parsed.Contains(origin))
            {
                parsed.Add(origin);
            }
        }
        origins = parsed.Count == 0 ? None : new WebOrigins(parsed.ToImmutable());
        return true;
    }

    /// <summary>The origins of a configuration already validated at start-up.</summary>
    public static WebOrigins From(WebOptions options) =>
        TryParse(options.AllowedOrigins, out WebOrigins origins)
            ? origins
            : throw new ServerStartupException($"setting {WebOptions.AllowedOriginsSetting} is not allowed: expected {MpcServerOptionsValidator.AllowedFor("Web:AllowedOrigins")}");

    /// <summary>Whether a request's Origin header value names an allowed origin ("null" and malformed values never do).</summary>
    public bool Allows(string? originHeader) =>
        originHeader is not null && Normalize(originHeader) is { } origin && Origins.Contains(origin, StringComparer.Ordinal);

    /// <summary>
    /// scheme://host[:port] with a non-default port kept, or null when the text is not an http(s) origin: a path other
    /// than "/", a query, a fragment, user information or a wildcard make it something else.
    /// </summary>
    private static string? Normalize(string text)
    {
        if (text.Contains('*', StringComparison.Ordinal)
            || !Uri.TryCreate(text, UriKind.Absolute, out Uri? uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || uri.UserInfo.Length != 0 || uri.AbsolutePath != "/" || uri.Query.Length != 0 || uri.Fragment.Length != 0
            || uri.HostNameType is UriHostNameType.Unknown or UriHostNameType.Basic)
        {
            return null;
        }
        // Uri lower-cases scheme and host and drops a default port, as the browser's serialization does.
        return uri.GetLeftPart(UriPartial.Authority);
    }

    private static bool IsSecureEnough(string origin)
    {
        var uri = new Uri(origin);
        // IsLoopback: localhost, 127.0.0.0/8 and [::1].
        return uri.Scheme == Uri.UriSchemeHttps || uri.IsLoopback;
    }
}
