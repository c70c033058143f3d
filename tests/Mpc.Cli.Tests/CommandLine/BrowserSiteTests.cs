namespace Mpc.Cli.Tests.CommandLine;

/// <summary>
/// How `mpc demo --browser` finds the browser client: --site, $MPC_BROWSER_SITE, beside mpc, else a publish cached in the
/// artifacts/browser-site of the source checkout mpc was built from (published when missing or older than the sources),
/// never of a checkout around the current directory. No publish runs here:
/// the tests build fake checkouts and sites and check which directory is chosen and whether a publish is planned.
/// </summary>
public sealed class BrowserSiteTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mpc-browser-site-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_site_given_with_site_is_used_and_one_without_the_page_is_refused_naming_the_directory()
    {
        string site = Page(Path.Combine(_root, "given"));
        BrowserSite chosen = BrowserSite.Resolve(site, configured: "/ignored", toolDirectory: _root, workingDirectory: _root, builtFrom: null);
        Assert.Equal(site, chosen.Directory);
        Assert.False(chosen.NeedsPublish);

        string empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        var error = Assert.Throws<ServerProcessException>(() => BrowserSite.Resolve(empty, null, _root, _root, null));
        Assert.Contains(empty, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void In_a_checkout_without_a_published_site_a_publish_into_artifacts_is_planned()
    {
        string checkout = Checkout();
        BrowserSite chosen = BrowserSite.Resolve(null, null, toolDirectory: Path.Combine(_root, "tool"), workingDirectory: _root, builtFrom: checkout);
        Assert.True(chosen.NeedsPublish);
        Assert.Equal(Path.Combine(checkout, "src", "Mpc.Browser", "Mpc.Browser.csproj"), chosen.PublishProject);
        Assert.Equal(Path.Combine(checkout, "artifacts", "browser-site"), chosen.PublishOutput);
        Assert.Equal(Path.Combine(checkout, "artifacts", "browser-site", "wwwroot"), chosen.Directory);
    }

    [Fact]
    public void A_cached_publish_newer_than_the_sources_is_used_and_a_changed_source_makes_it_published_again()
    {
        string checkout = Checkout();
        string source = Path.Combine(checkout, "src", "Mpc.Browser", "BrowserSigner.cs");
        foreach (string file in Directory.EnumerateFiles(Path.Combine(checkout, "src"), "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(-2));
        }
        string cached = Page(Path.Combine(checkout, "artifacts", "browser-site", "wwwroot"));
        // A publish copies issue.html with its source's time: only the stamp says when the publish ran.
        File.SetLastWriteTimeUtc(Path.Combine(cached, "issue.html"), DateTime.UtcNow.AddHours(-3));
        Assert.True(BrowserSite.Resolve(null, null, Path.Combine(_root, "tool"), _root, checkout).NeedsPublish); // no stamp yet
        string stamp = Path.Combine(checkout, "artifacts", "browser-site", BrowserSite.StampFile);
        File.WriteAllText(stamp, "");
        File.SetLastWriteTimeUtc(stamp, DateTime.UtcNow.AddHours(-1));

        BrowserSite fresh = BrowserSite.Resolve(null, null, Path.Combine(_root, "tool"), _root, checkout);
        Assert.False(fresh.NeedsPublish);
        Assert.Equal(cached, fresh.Directory);

        File.SetLastWriteTimeUtc(source, DateTime.UtcNow);
        Assert.True(BrowserSite.Resolve(null, null, Path.Combine(_root, "tool"), _root, checkout).NeedsPublish);
    }

    [Fact]
    public void A_changed_shared_source_linked_into_the_sdk_makes_the_cached_publish_stale()
    {
        // src/Shared is compiled into Mpc.Client (and so into the browser client) without being a project of its own.
        string checkout = Checkout();
        string shared = Path.Combine(Directory.CreateDirectory(Path.Combine(checkout, "src", "Shared")).FullName, "DirectoryFlush.cs");
        File.WriteAllText(shared, "// source");
        foreach (string file in Directory.EnumerateFiles(Path.Combine(checkout, "src"), "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(-2));
        }
        Page(Path.Combine(checkout, "artifacts", "browser-site", "wwwroot"));
        string stamp = Path.Combine(checkout, "artifacts", "browser-site", BrowserSite.StampFile);
        File.WriteAllText(stamp, "");
        File.SetLastWriteTimeUtc(stamp, DateTime.UtcNow.AddHours(-1));
        Assert.False(BrowserSite.Resolve(null, null, Path.Combine(_root, "tool"), _root, checkout).NeedsPublish);

        File.SetLastWriteTimeUtc(shared, DateTime.UtcNow);

        Assert.True(BrowserSite.Resolve(null, null, Path.Combine(_root, "tool"), _root, checkout).NeedsPublish);
    }

    [Fact]
    public void Run_inside_another_checkout_the_checkout_mpc_was_built_from_is_published_not_the_one_here()
    {
        string builtFrom = Checkout("built-from");
        string other = Checkout("other");

        BrowserSite chosen = BrowserSite.Resolve(null, null, toolDirectory: Path.Combine(_root, "tool"), workingDirectory: Path.Combine(other, "docs"), builtFrom);

        Assert.Equal(Path.Combine(builtFrom, "src", "Mpc.Browser", "Mpc.Browser.csproj"), chosen.PublishProject);
        Assert.Equal(Path.Combine(builtFrom, "artifacts", "browser-site"), chosen.PublishOutput);
        Assert.False(Directory.Exists(Path.Combine(other, "artifacts")));
    }

    [Fact]
    public void When_the_checkout_mpc_was_built_from_is_gone_the_one_here_is_refused_in_one_line_naming_both()
    {
        string gone = Path.Combine(_root, "gone");
        string other = Checkout("other");

        var error = Assert.Throws<ServerProcessException>(() => BrowserSite.Resolve(null, null, Path.Combine(_root, "tool"), Path.Combine(other, "docs"), gone));

        Assert.Contains($"the checkout mpc was built from ({gone}) is gone", error.Message, StringComparison.Ordinal);
        Assert.Contains($"the checkout here ({other}) is not the one mpc was built from, so it is not published", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(Directory.Exists(Path.Combine(other, "artifacts")));
    }

    [Fact]
    public void This_mpc_records_the_checkout_it_was_built_from()
    {
        Assert.Equal(Repository.Root, BrowserSite.BuiltFrom);
    }

    [Fact]
    public void Without_a_checkout_or_a_site_the_error_says_how_to_publish()
    {
        string nowhere = Directory.CreateDirectory(Path.Combine(_root, "nowhere")).FullName;
        var error = Assert.Throws<ServerProcessException>(() => BrowserSite.Resolve(null, null, nowhere, nowhere, null));
        Assert.Contains("dotnet publish src/Mpc.Browser", error.Message, StringComparison.Ordinal);
    }

    private string Checkout(string name = "checkout")
    {
        string checkout = Directory.CreateDirectory(Path.Combine(_root, name)).FullName;
        File.WriteAllText(Path.Combine(checkout, "Mpc.sln"), "");
        Directory.CreateDirectory(Path.Combine(checkout, "docs"));
        string project = Directory.CreateDirectory(Path.Combine(checkout, "src", "Mpc.Browser")).FullName;
        File.WriteAllText(Path.Combine(project, "Mpc.Browser.csproj"), "<Project />");
        File.WriteAllText(Path.Combine(project, "BrowserSigner.cs"), "// source");
        return checkout;
    }

    private static string Page(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "issue.html"), "<!DOCTYPE html>");
        return directory;
    }
}
