using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Mpc.Server;

/// <summary>
/// The browser client's static files (Mpc__Web__ServeExample=true) on the web port only: the "issue a document" page
/// at "/", its scripts and the .NET WebAssembly runtime, from the same origin as gRPC-Web (so the page's calls need no
/// other CORS entry than that origin). Nothing else is served from the directory: unknown file types are not.
/// Loopback only (every listen URL and every allowed origin): the served scripts are what holds the browser's share, so
/// serving them from the signing server would let whoever controls that server (the one party the split key guards
/// against) ship a script that reads the share on the next page load. A deployed web app serves its own copy from its
/// own origin; this page is for <c>mpc demo --browser</c> and trying the client on one machine.
/// </summary>
public static class ExampleSite
{
    /// <summary>The page "/" opens.</summary>
    public const string Page = "issue.html";

    /// <summary>
    /// Scripts, styles, workers and connections from this origin only, WebAssembly compiled from them
    /// ('wasm-unsafe-eval' allows that and not eval()), no plugins, no &lt;base&gt;, and no framing (clickjacking the
    /// Sign button). Sent with every response of the web port, the page's and its scripts' alike.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    internal static bool IsValid(MpcServerOptions options) =>
        !options.Web.ServeExample
        || (options.Web.Port is not null && WebOrigins.TryParse(options.Web.AllowedOrigins, out WebOrigins origins) && origins.IsEnabled
            && origins.Origins.All(origin => new Uri(origin).IsLoopback)
            && ListenUrls.TryParse(options.Urls, out var urls) && urls.All(url => url.Port < 0 || ListenUrls.IsLoopbackHost(url.Host))
            && File.Exists(Path.Combine(options.Web.ResolvedExampleDirectory, Page)));

    /// <summary>Serves the files (when asked to) for requests that arrived on the web port.</summary>
    public static WebApplication UseMpcExampleSite(this WebApplication app, WebOptions web)
    {
        if (!web.ServeExample || web.Port is not { } port)
        {
            return app;
        }
        var files = new PhysicalFileProvider(web.ResolvedExampleDirectory);
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".wasm"] = "application/wasm";
        types.Mappings[".dat"] = "application/octet-stream";
        types.Mappings[".webcil"] = "application/octet-stream";
        types.Mappings[".ts"] = "text/plain";
        app.UseWhen(context => context.Connection.LocalPort == port, site =>
        {
            site.Use((context, next) =>
            {
                IHeaderDictionary headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                return next(context);
            });
            site.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, DefaultFileNames = [Page] });
            site.UseStaticFiles(new StaticFileOptions { FileProvider = files, ContentTypeProvider = types, ServeUnknownFileTypes = false });
        });
        return app;
    }
}
