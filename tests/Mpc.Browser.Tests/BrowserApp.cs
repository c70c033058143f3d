using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Mpc.Browser.Tests;

/// <summary>
/// src/Mpc.Browser as published for the tests (<see cref="PublishedBrowserApp"/>), served by Kestrel on a loopback port
/// of its own, a headless Chromium (the Debian package, through Playwright) to open it, and the mpc-server processes
/// the pages call: one of each for every browser collection. <see cref="SkipReason"/> says why the tests cannot run.
/// </summary>
public sealed class BrowserApp : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private string _publishDirectory = null!;
    private WebApplication? _site;
    private IPlaywright? _playwright;

    /// <summary>Null when the tests can run; else why not (no chromium).</summary>
    public static string? SkipReason => File.Exists(ChromiumPath)
        ? null
        : $"headless Chromium is needed at {ChromiumPath} (Debian: apt-get install chromium); browser tests skipped";

    public Uri Address { get; private set; } = null!;

    /// <summary>The page's origin as browsers send it (no trailing slash).</summary>
    public string Origin => Address.GetLeftPart(UriPartial.Authority);

    /// <summary>The published static files (wwwroot).</summary>
    public string SiteDirectory => Path.Combine(_publishDirectory, "wwwroot");

    /// <summary>The mpc-server child process, started on first use with this page's origin allowed.</summary>
    public SigningServer Server { get; } = new();

    /// <summary>A second mpc-server that serves the published site itself (Mpc__Web__ServeExample=true).</summary>
    public SigningServer ExampleServer { get; } = new();

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (SkipReason is not null)
        {
            return;
        }
        _publishDirectory = await PublishedBrowserApp.DirectoryAsync();
        _site = Serve(Path.Combine(_publishDirectory, "wwwroot"));
        await _site.StartAsync();
        Address = new Uri(_site.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        await Server.DisposeAsync();
        await ExampleServer.DisposeAsync();
        if (_site is not null)
        {
            await _site.StopAsync();
            await _site.DisposeAsync();
        }
    }

    private static WebApplication Serve(string root)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication site = builder.Build();
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".wasm"] = "application/wasm";
        types.Mappings[".dat"] = "application/octet-stream";
        types.Mappings[".webcil"] = "application/octet-stream";
        var files = new PhysicalFileProvider(root);
        site.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        site.UseStaticFiles(new StaticFileOptions { FileProvider = files, ContentTypeProvider = types, ServeUnknownFileTypes = false });
        // An empty page at the app's origin: the tests import mpc-signer.js into it.
        site.MapGet("/harness.html", () => Results.Content("<!DOCTYPE html><html><head><title>harness</title></head><body></body></html>", "text/html"));
        return site;
    }
}

/// <summary>Most browser test classes: they share one site, one Chromium and one server, one test at a time.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserApp>
{
    public const string Name = "browser";
}

/// <summary>
/// Backups, restores and shares left pending, the longest browser tests (about 300 of 670 s): a site, a Chromium and a
/// server of their own, so that xunit runs them beside the "browser" collection. In CI on a slow 2-core host the
/// project took 12 min beside another test assembly, against 17 min as one collection (docs/architecture.md).
/// </summary>
[CollectionDefinition(Name)]
public sealed class BrowserCustodyCollection : ICollectionFixture<BrowserApp>
{
    public const string Name = "browser-custody";
}
