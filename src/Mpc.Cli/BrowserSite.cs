using System.Diagnostics;

namespace Mpc.Cli;

/// <summary>
/// Where <c>mpc demo --browser</c> finds the published browser client (src/Mpc.Browser's wwwroot), in this order:
/// --site; $MPC_BROWSER_SITE; browser/wwwroot beside mpc (an installed layout); else, in the source checkout this mpc
/// was built from (<see cref="BuiltFrom"/>), a publish cached in artifacts/browser-site, published first when missing
/// or older than the sources it is built from. A checkout around the current directory is never published: running
/// mpc inside someone else's checkout must not build and serve that checkout's code.
/// </summary>
internal sealed record BrowserSite(string Directory, string? PublishProject, string? PublishOutput)
{
    public const string Variable = "MPC_BROWSER_SITE";
    public const string CacheDirectory = "artifacts/browser-site";

    /// <summary>Written into the cache after a successful publish: its time is the publish's (published files keep their sources' times).</summary>
    public const string StampFile = "published.stamp";

    /// <summary>The source folders the browser client is built from: a change in any makes the cached publish stale.</summary>
    private static readonly string[] SourceFolders = ["src/Mpc.Browser", "src/Mpc.Client", "src/Mpc.Protocol", "src/Mpc.Crypto", "src/Shared"];

    /// <summary>The assembly metadata key under which Mpc.Cli.csproj records the checkout it is built in.</summary>
    public const string BuiltFromKey = "MpcSourceCheckout";

    /// <summary>True when the site must be published (into <see cref="PublishOutput"/>) before it is served.</summary>
    public bool NeedsPublish => PublishProject is not null;

    /// <summary>The source checkout this mpc was built from, as the build recorded it; null if it recorded none.</summary>
    public static string? BuiltFrom => typeof(BrowserSite).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), inherit: false)
        .OfType<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == BuiltFromKey)?.Value;

    /// <summary>
    /// The site to serve. <paramref name="workingDirectory"/> only names, in the error, a checkout that was found there
    /// but is not <paramref name="builtFrom"/> (<see cref="BuiltFrom"/>).
    /// </summary>
    public static BrowserSite Resolve(string? site, string? configured, string toolDirectory, string workingDirectory, string? builtFrom)
    {
        if (site is not null)
        {
            return Existing(Path.GetFullPath(site), "--site");
        }
        if (configured is { Length: > 0 })
        {
            return Existing(Path.GetFullPath(configured), $"${Variable}");
        }
        string beside = Path.Combine(toolDirectory, "browser", "wwwroot");
        if (HasPage(beside))
        {
            return new BrowserSite(beside, null, null);
        }
        string? checkout = builtFrom is not null && IsCheckout(builtFrom) ? Path.GetFullPath(builtFrom) : null;
        if (checkout is null)
        {
            string from = builtFrom is null ? "" : $" and the checkout mpc was built from ({builtFrom}) is gone";
            throw FindCheckout(workingDirectory) is { } here
                ? new ServerProcessException(
                    $"no browser client beside mpc ({beside}){from}; the checkout here ({here}) is not the one mpc was built from, so it is not published: build and run mpc from it, or pass --site DIR/wwwroot after `dotnet publish src/Mpc.Browser -c Release -o DIR`")
                : new ServerProcessException(
                    $"no browser client beside mpc ({beside}){from}: publish it with `dotnet publish src/Mpc.Browser -c Release -o artifacts/browser` and pass --site artifacts/browser/wwwroot");
        }
        string output = Path.Combine(checkout, CacheDirectory);
        string wwwroot = Path.Combine(output, "wwwroot");
        return HasPage(wwwroot) && !IsStale(checkout, output)
            ? new BrowserSite(wwwroot, null, null)
            : new BrowserSite(wwwroot, Path.Combine(checkout, "src", "Mpc.Browser", "Mpc.Browser.csproj"), output);
    }

    /// <summary>Publishes the browser client (Release) into <see cref="PublishOutput"/>; a progress line first, dotnet's errors on failure.</summary>
    public async Task PublishAsync(CancellationToken cancellationToken)
    {
        if (!NeedsPublish)
        {
            return;
        }
        Console.Error.WriteLine($"Publishing the browser client ({PublishProject}) into {PublishOutput}: once, a few minutes; later runs reuse it...");
        var start = new ProcessStartInfo("dotnet", ["publish", PublishProject!, "-c", "Release", "-o", PublishOutput!, "--nologo"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start) ?? throw new ServerProcessException("could not start dotnet to publish the browser client");
        Task<string> output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0 || !HasPage(Directory))
        {
            throw new ServerProcessException($"dotnet publish {PublishProject} failed ({process.ExitCode}):\n{(await output).Trim()}\n{(await errors).Trim()}");
        }
        await File.WriteAllTextAsync(Path.Combine(PublishOutput!, StampFile), $"{DateTimeOffset.UtcNow:O}\n", cancellationToken);
        Console.Error.WriteLine($"Published in {clock.Elapsed.TotalSeconds:0} s.");
    }

    private static BrowserSite Existing(string directory, string from) => HasPage(directory)
        ? new BrowserSite(directory, null, null)
        : throw new ServerProcessException(
            $"no browser client in {directory} (from {from}): publish it with `dotnet publish src/Mpc.Browser -c Release -o DIR` and pass DIR/wwwroot");

    private static bool HasPage(string directory) => File.Exists(Path.Combine(directory, "issue.html"));

    private static string? FindCheckout(string start)
    {
        for (DirectoryInfo? directory = new(start); directory is not null; directory = directory.Parent)
        {
            if (IsCheckout(directory.FullName))
            {
                return directory.FullName;
            }
        }
        return null;
    }

    private static bool IsCheckout(string directory) =>
        File.Exists(Path.Combine(directory, "Mpc.sln")) && File.Exists(Path.Combine(directory, "src", "Mpc.Browser", "Mpc.Browser.csproj"));

    /// <summary>Whether the cache has no stamp, or a source file (outside bin/ and obj/) is newer than it.</summary>
    private static bool IsStale(string checkout, string output)
    {
        string stamp = Path.Combine(output, StampFile);
        if (!File.Exists(stamp))
        {
            return true;
        }
        DateTime published = File.GetLastWriteTimeUtc(stamp);
        return SourceFolders
            .Select(folder => Path.Combine(checkout, folder))
            .Where(System.IO.Directory.Exists)
            .SelectMany(folder => System.IO.Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Any(file => File.GetLastWriteTimeUtc(file) > published);
    }
}
