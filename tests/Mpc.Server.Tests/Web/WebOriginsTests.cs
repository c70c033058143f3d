using Microsoft.Extensions.Configuration;
using Mpc.Server;

namespace Mpc.Server.Tests.Web;

/// <summary>Mpc__Web__AllowedOrigins: exact https origins (or http on loopback), in the form browsers send.</summary>
public sealed class WebOriginsTests
{
    [Theory]
    [InlineData("https://app.example.com", "https://app.example.com")]
    [InlineData("HTTPS://App.Example.COM:443/", "https://app.example.com")]
    [InlineData("https://app.example.com:8443", "https://app.example.com:8443")]
    [InlineData("http://localhost:5173", "http://localhost:5173")]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080")]
    [InlineData("http://[::1]:8080", "http://[::1]:8080")]
    public void An_origin_is_kept_as_browsers_serialize_it(string configured, string expected)
    {
        Assert.True(WebOrigins.TryParse(configured, out WebOrigins origins));
        Assert.Equal(new[] { expected }, origins.Origins.ToArray());
        Assert.True(origins.Allows(expected));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("https://*.example.com")]
    [InlineData("https://app.example.com/signer")]
    [InlineData("https://app.example.com/?x=1")]
    [InlineData("https://user@app.example.com")]
    [InlineData("http://app.example.com")]
    [InlineData("ftp://app.example.com")]
    [InlineData("app.example.com")]
    [InlineData("null")]
    [InlineData("https://app.example.com;http://10.0.0.5:8080")]
    public void Anything_but_an_exact_secure_origin_is_refused_at_start_up(string configured)
    {
        Assert.False(WebOrigins.TryParse(configured, out _));
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("Mpc:Web:AllowedOrigins", configured), new("Mpc:Web:Port", "7080")])
            .Build();

        string line = Assert.Single(Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Bind(configuration)).Problems);

        Assert.StartsWith("setting " + WebOptions.AllowedOriginsSetting, line, StringComparison.Ordinal);
        Assert.Contains("no wildcard", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ; ")]
    public void No_origin_means_gRPC_Web_is_off(string? configured)
    {
        Assert.True(WebOrigins.TryParse(configured, out WebOrigins origins));
        Assert.False(origins.IsEnabled);
        Assert.False(origins.Allows("https://app.example.com"));
    }

    [Fact]
    public void Several_origins_separated_by_semicolons_are_each_allowed_and_nothing_else()
    {
        Assert.True(WebOrigins.TryParse("https://a.example.com; https://b.example.com:8443 ;https://a.example.com", out WebOrigins origins));

        Assert.Equal(new[] { "https://a.example.com", "https://b.example.com:8443" }, origins.Origins.ToArray());
        Assert.True(origins.Allows("https://b.example.com:8443"));
        Assert.False(origins.Allows("https://b.example.com"));
        Assert.False(origins.Allows("https://a.example.com, https://b.example.com:8443"));
        Assert.False(origins.Allows("null"));
        Assert.False(origins.Allows(null));
    }

    [Theory]
    [InlineData("https://app.example.com", null, "required with")]
    [InlineData(null, 7080, "required with")]
    [InlineData("https://app.example.com", 7443, "none of the gRPC ports")]
    [InlineData("https://app.example.com", 9464, "the metrics port and the silo port")]
    [InlineData("https://app.example.com", 70000, "from 1 to 65535")]
    public void The_web_port_is_set_exactly_with_origins_and_is_a_port_of_its_own(string? origins, int? port, string allowed)
    {
        var options = new MpcServerOptions { Urls = "http://127.0.0.1:7443", Metrics = { Port = 9464 }, Web = { AllowedOrigins = origins, Port = port } };

        string line = Assert.Single(Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Validate(options)).Problems);

        Assert.StartsWith("setting " + WebOptions.PortSetting, line, StringComparison.Ordinal);
        Assert.Contains(allowed, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Origins_with_a_port_of_their_own_are_accepted()
    {
        MpcServerConfiguration.Validate(new MpcServerOptions
        {
            Urls = "http://127.0.0.1:7443",
            Metrics = { Port = 9464 },
            Web = { AllowedOrigins = "https://app.example.com", Port = 7080 },
        });
    }
}
