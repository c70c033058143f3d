namespace Mpc.Server;

/// <summary>
/// gRPC-Web for browser clients (Mpc__Web__*): on only when <see cref="AllowedOrigins"/> names at least one origin.
/// docs/service.md ("gRPC-Web and browsers") describes what it serves and what it refuses.
/// </summary>
public sealed class WebOptions
{
    /// <summary>The configuration key, as an environment variable.</summary>
    public const string AllowedOriginsSetting = "Mpc__Web__AllowedOrigins";

    public const string PortSetting = "Mpc__Web__Port";

    /// <summary>
    /// The web applications' origins allowed to call the service from a browser, separated by ';', e.g.
    /// <c>https://app.example.com;https://docs.example.com:8443</c>: https, or http on a loopback host only (a page
    /// served in plain text to anyone else can be rewritten in transit, and WebCrypto needs a secure context anyway).
    /// No path, no wildcard. Unset or empty: gRPC-Web is off.
    /// </summary>
    public string? AllowedOrigins { get; set; }

    /// <summary>
    /// The port browsers call, on the same host(s) and scheme as the gRPC URLs: HTTP/1.1 (and HTTP/2 when TLS
    /// negotiates it). It cannot be the gRPC port: on plain text that one speaks HTTP/2 only (native clients start
    /// HTTP/2 without negotiation, which a port also taking HTTP/1.1 refuses), and browsers never speak HTTP/2 in
    /// plain text. Required with <see cref="AllowedOrigins"/>, and only with it.
    /// </summary>
    public int? Port { get; set; }

    public const string ServeExampleSetting = "Mpc__Web__ServeExample";

    /// <summary>
    /// Serve the browser client's static files (the published src/Mpc.Browser: the "issue a document" example page
    /// issue.html, mpc-signer.js and the WebAssembly runtime) on <see cref="Port"/>, the same origin as gRPC-Web, so
    /// the page needs no other web server. Needs gRPC-Web on, and that origin in <see cref="AllowedOrigins"/>.
    /// </summary>
    public bool ServeExample { get; set; }

    /// <summary>
    /// The published browser client's wwwroot (<c>dotnet publish src/Mpc.Browser -c Release -o DIR</c>, then
    /// DIR/wwwroot). Unset: <c>browser</c> beside the server program.
    /// </summary>
    public string? ExampleDirectory { get; set; }

    /// <summary><see cref="ExampleDirectory"/>, or its default.</summary>
    public string ResolvedExampleDirectory => Path.GetFullPath(ExampleDirectory ?? Path.Combine(AppContext.BaseDirectory, "browser"));
}
