using Mpc.Server;

namespace Mpc.Server.Tests.Web;

/// <summary>Mpc__Web__ServeExample's start-up rule (the serving itself: tests/Mpc.Browser.Tests, ExamplePageTests).</summary>
public sealed class ExampleSiteTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Serving_the_example_is_refused_at_start_up_without_gRPC_Web_or_without_a_published_client(bool webOn)
    {
        using var temp = new TempDirectory("mpc-example-empty-");
        string empty = temp.Path;
        {
            var options = new MpcServerOptions
            {
                Urls = "http://127.0.0.1:7443",
                Web = webOn
                    ? new WebOptions { AllowedOrigins = "http://127.0.0.1:7080", Port = 7080, ServeExample = true, ExampleDirectory = empty }
                    : new WebOptions { ServeExample = true },
            };

            string line = Assert.Single(Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Validate(options)).Problems);

            Assert.StartsWith("setting " + WebOptions.ServeExampleSetting, line, StringComparison.Ordinal);
            Assert.Contains("issue.html", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_published_client_with_gRPC_Web_on_is_accepted()
    {
        using var temp = new TempDirectory("mpc-example-site-");
        string site = temp.Path;
        {
            File.WriteAllText(Path.Combine(site, ExampleSite.Page), "<!DOCTYPE html>");
            MpcServerConfiguration.Validate(new MpcServerOptions
            {
                Urls = "http://127.0.0.1:7443",
                Web = { AllowedOrigins = "http://127.0.0.1:7080", Port = 7080, ServeExample = true, ExampleDirectory = site },
            });
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:7443", "https://app.example.com")]
    [InlineData("http://127.0.0.1:7443", "http://127.0.0.1:7080;https://app.example.com")]
    [InlineData("http://0.0.0.0:7443", "http://127.0.0.1:7080")]
    [InlineData("https://*:7443", "http://127.0.0.1:7080")]
    [InlineData("http://127.0.0.1:7443;http://10.0.0.5:7443", "http://localhost:7080")]
    [InlineData("http://signer.internal:7443", "http://127.0.0.1:7080")]
    public void Serving_the_example_beyond_loopback_is_refused_because_the_page_holds_the_browsers_share(string urls, string origins)
    {
        // Whoever controls the signing server would control the script that opens the browser's share.
        using var temp = new TempDirectory("mpc-example-site-");
        File.WriteAllText(Path.Combine(temp.Path, ExampleSite.Page), "<!DOCTYPE html>");
        var options = new MpcServerOptions
        {
            Urls = urls,
            // Beyond loopback, so that only the example's own rule refuses.
            PlainHttpBehindTlsProxy = true,
            Auth = { AllowDevelopmentKey = true },
            Web = { AllowedOrigins = origins, Port = 7080, ServeExample = true, ExampleDirectory = temp.Path },
        };

        string line = Assert.Single(Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Validate(options)).Problems);

        Assert.StartsWith("setting " + WebOptions.ServeExampleSetting, line, StringComparison.Ordinal);
        Assert.Contains("only on loopback", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://localhost:7443", "http://localhost:7080")]
    [InlineData("http://[::1]:7443", "http://[::1]:7080")]
    [InlineData("http://127.0.0.2:7443", "http://127.0.0.1:7080")]
    public void Every_loopback_form_may_serve_the_example(string urls, string origins)
    {
        using var temp = new TempDirectory("mpc-example-site-");
        File.WriteAllText(Path.Combine(temp.Path, ExampleSite.Page), "<!DOCTYPE html>");
        MpcServerConfiguration.Validate(new MpcServerOptions
        {
            Urls = urls,
            Web = { AllowedOrigins = origins, Port = 7080, ServeExample = true, ExampleDirectory = temp.Path },
        });
    }
}
