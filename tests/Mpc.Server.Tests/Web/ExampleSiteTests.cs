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
}
