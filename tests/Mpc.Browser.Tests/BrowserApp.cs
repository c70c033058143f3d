using System.Diagnostics;
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
/// src/Mpc.Browser published once into a temp directory, served by Kestrel on a loopback port, and a headless
/// Chromium (the Debian package, through Playwright) to open it. <see cref="SkipReason"/> says why the tests cannot run.
/// Published with the test hooks (<c>-p:MpcBrowserTestHooks=true</c>: BrowserSigner.ShareScalarHexForTest), once for
/// every test class of the "browser" collection.
/// </summary>
public sealed class BrowserApp : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly string _publishDirectory = Directory.CreateTempSubdirectory("mpc-browser-").FullName;
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
        await PublishAsync();
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
        try
        {
            Directory.Delete(_publishDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task PublishAsync()
    {
        string project = Path.Combine(RepositoryRoot(), "src", "Mpc.Browser", "Mpc.Browser.csproj");
        var start = new ProcessStartInfo("dotnet", ["publish", project, "-c", "Release", "-o", _publishDirectory, "--nologo", "-p:MpcBrowserTestHooks=true"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish {project} failed ({process.ExitCode}):\n{await output}\n{await errors}");
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

    internal static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Mpc.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("Mpc.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>The browser test classes share one published app, one Chromium and one server.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserApp>
{
    public const string Name = "browser";
}
