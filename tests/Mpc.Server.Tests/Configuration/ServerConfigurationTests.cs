using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Mpc.Server;

namespace Mpc.Server.Tests.Configuration;

/// <summary>
/// The <c>Mpc</c> section is bound and checked before anything starts: every bad value is one line naming the
/// setting, the value and what is allowed.
/// </summary>
public sealed class ServerConfigurationTests
{
    [Fact]
    public void A_number_setting_given_a_word_is_one_line_naming_the_setting_the_value_and_what_is_allowed()
    {
        ServerStartupException e = MpcSettings.Refused(("Mpc:Signer:MaxSignaturesPerKey", "lots"));

        string line = Assert.Single(e.Problems);
        Assert.Equal(e.Message, line);
        Assert.Contains("Mpc__Signer__MaxSignaturesPerKey", line);
        Assert.Contains("'lots'", line);
        Assert.Contains("a whole number, 0 (no limit) or more", line);
        Assert.Equal(ServerStartupReason.Setting, e.Reason);
    }

    [Fact]
    public void Every_bad_value_is_reported_at_once_each_on_its_own_line()
    {
        ServerStartupException e = MpcSettings.Refused(
            ("Mpc:Signer:MaxSignaturesPerKey", "-4"),
            ("Mpc:Cluster:Mode", "kubernetes"),
            ("Mpc:Signer:SignatureRateWindow", "00:00:00"),
            ("Mpc:Urls", "127.0.0.1:7443"));

        Assert.Equal(4, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.Contains("Mpc__Signer__MaxSignaturesPerKey='-4'", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("Mpc__Cluster__Mode='kubernetes'", StringComparison.Ordinal) && p.Contains("embedded or redis", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("Mpc__Signer__SignatureRateWindow='00:00:00'", StringComparison.Ordinal) && p.Contains("above 00:00:00", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("Mpc__Urls='127.0.0.1:7443'", StringComparison.Ordinal) && p.Contains("http://", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Mpc:Signer:SignSessionLifetime", "ten minutes", "a duration")]
    [InlineData("Mpc:Quiet", "yes", "true or false")]
    [InlineData("Mpc:Cluster:SiloPort", "eleven", "a port from 1 to 65535")]
    [InlineData("Mpc:Signer:PaillierModulusBits", "1024", "from 2048 to 4096")]
    [InlineData("Mpc:Signer:PaillierModulusBits", "2049", "an even number")]
    [InlineData("Mpc:Signer:KeyGenSessionLifetime", "2.00:00:00", "at most 1.00:00:00")]
    [InlineData("Mpc:Signer:MaxOpenSessionsPerKey", "0", "1 or more")]
    [InlineData("Mpc:Signer:MaxPaillierKeysPerUser", "-1", "0 (no limit) or more")]
    [InlineData("Mpc:Signer:PaillierKeyRateWindow", "00:00:00", "above 00:00:00")]
    [InlineData("Mpc:Signer:PaillierKeyRateWindow", "2.00:00:00", "at most 1.00:00:00")]
    [InlineData("Mpc:Signer:MaxCertificateChainsPerUser", "-1", "0 (no limit) or more")]
    [InlineData("Mpc:Signer:CertificateChainRateWindow", "00:00:00", "above 00:00:00")]
    [InlineData("Mpc:Cluster:AdvertisedIPAddress", "pod-ip", "an IP address")]
    [InlineData("Mpc:KeyEncryption:Provider", "kms", "file or pkcs11")]
    public void A_bad_value_names_the_setting_and_what_it_allows(string key, string value, string allowed)
    {
        string line = Assert.Single(MpcSettings.Refused((key, value)).Problems);
        Assert.Contains(ServerSettings.EnvironmentVariable(key) + "='" + value + "'", line);
        Assert.Contains(allowed, line);
    }

    [Fact]
    public void A_misspelt_setting_is_refused_without_echoing_its_value()
    {
        string line = Assert.Single(MpcSettings.Refused(("Mpc:Cluster:RedisPasword", "hunter2")).Problems);
        Assert.Contains("unknown setting Mpc__Cluster__RedisPasword", line);
        Assert.DoesNotContain("hunter2", line);
    }

    [Fact]
    public void Redis_mode_without_a_connection_string_says_what_is_missing()
    {
        string line = Assert.Single(MpcSettings.Refused(("Mpc:Cluster:Mode", "redis"), ("Mpc:Cluster:PlainSiloTraffic", "true")).Problems);
        Assert.Contains("Mpc__Cluster__RedisConnectionString is not set", line);
    }

    [Fact]
    public void Good_values_bind_including_an_empty_value_for_an_optional_number()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Mpc:Signer:MaxSignaturesPerKey"] = "10",
                ["mpc:signer:signaturerateWindow"] = "00:00:30",
                ["Mpc:Signer:MaxPaillierKeysPerUser"] = "50",
                ["Mpc:Signer:PaillierKeyRateWindow"] = "01:00:00",
                ["Mpc:Cluster:SiloPort"] = "",
                ["Mpc:Quiet"] = "True",
                ["Logging:LogLevel:Default"] = "Warning",
            })
            .Build();

        MpcServerOptions options = MpcServerConfiguration.Bind(configuration);

        Assert.Equal(10, options.Signer.MaxSignaturesPerKey);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Signer.SignatureRateWindow);
        Assert.Equal(50, options.Signer.MaxPaillierKeysPerUser);
        Assert.Equal(TimeSpan.FromHours(1), options.Signer.PaillierKeyRateWindow);
        Assert.Null(options.Cluster.SiloPort);
        Assert.True(options.Quiet);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7443", true)]
    [InlineData("http://127.0.0.1:0;https://[::1]:7444", true)]
    [InlineData("https://0.0.0.0:7443", true)]
    [InlineData("https://*:7443", true)]
    [InlineData("http://localhost:7443/", true)]
    [InlineData("https://signer.example.com", true)]
    [InlineData("127.0.0.1:7443", false)]
    [InlineData("grpc://127.0.0.1:7443", false)]
    [InlineData("http://127.0.0.1:port", false)]
    [InlineData("http://127.0.0.1:99999", false)]
    [InlineData("http://:7443", false)]
    [InlineData(" ; ", false)]
    public void Listen_urls_are_checked(string urls, bool accepted)
    {
        // Tokens from an identity provider's key, so that only the URLs' own rules apply beyond loopback.
        var options = new MpcServerOptions { Urls = urls, Auth = { PublicKeyFile = "issuer.pem" } };
        if (accepted)
        {
            MpcServerConfiguration.Validate(options);
        }
        else
        {
            string line = Assert.Single(Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Validate(options)).Problems);
            Assert.StartsWith("setting Mpc__Urls", line);
        }
    }

    [Theory]
    [InlineData("http://0.0.0.0:7443")]
    [InlineData("http://*:7443")]
    [InlineData("http://[::]:7443")]
    [InlineData("http://192.168.1.20:7443")]
    [InlineData("http://signer.internal:7443")]
    [InlineData("http://127.0.0.1:7443;http://10.0.0.5:7443")]
    public void Plain_http_beyond_loopback_is_refused_in_one_line_naming_the_setting_that_would_allow_it(string urls)
    {
        string line = Assert.Single(MpcSettings.Refused(("Mpc:Urls", urls), ("Mpc:Auth:PublicKeyFile", "issuer.pem")).Problems);

        Assert.StartsWith($"setting Mpc__Urls='{urls}' is not allowed: expected https:// beyond loopback", line);
        Assert.Contains(MpcServerOptions.PlainHttpBehindTlsProxySetting + "=true", line);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7443")]
    [InlineData("http://127.0.0.2:7443")]
    [InlineData("http://[::1]:7443")]
    [InlineData("http://localhost:7443")]
    [InlineData("http://unix:/run/mpc-signer/grpc.sock")]
    [InlineData("https://0.0.0.0:7443")]
    [InlineData("https://192.168.1.20:7443;http://127.0.0.1:7444")]
    [InlineData("https://signer.example.com")]
    public void Plain_http_on_loopback_and_https_anywhere_are_accepted(string urls) =>
        Assert.Equal(urls, MpcSettings.Bind(("Mpc:Urls", urls), ("Mpc:Auth:PublicKeyFile", "issuer.pem")).Urls);

    [Theory]
    [InlineData("http://0.0.0.0:7443")]
    [InlineData("http://192.168.1.20:7443")]
    [InlineData("http://signer.internal:7443")]
    public void Plain_http_beyond_loopback_is_accepted_when_the_operator_says_a_tls_proxy_is_in_front(string urls)
    {
        MpcServerOptions options = MpcSettings.Bind(("Mpc:Urls", urls), ("Mpc:PlainHttpBehindTlsProxy", "true"), ("Mpc:Auth:PublicKeyFile", "issuer.pem"));

        Assert.Equal(urls, options.Urls);
        Assert.True(options.PlainHttpBehindTlsProxy);
    }

    [Theory]
    [InlineData("https://0.0.0.0:7443")]
    [InlineData("https://*:7443")]
    [InlineData("https://signer.example.com")]
    [InlineData("https://127.0.0.1:7443;https://10.0.0.5:7443")]
    public void The_development_key_beyond_loopback_is_refused_in_one_line_naming_the_three_ways_out(string urls)
    {
        // Its private half lies in the data directory: a copy of that directory would mint any user's and any operator's token.
        string line = Assert.Single(MpcSettings.Refused(("Mpc:Urls", urls)).Problems);

        Assert.StartsWith($"setting Mpc__Urls='{urls}' is not allowed: expected loopback only", line, StringComparison.Ordinal);
        Assert.Contains(AuthOptions.AuthoritySetting, line, StringComparison.Ordinal);
        Assert.Contains(AuthOptions.PublicKeyFileSetting, line, StringComparison.Ordinal);
        Assert.Contains(AuthOptions.AllowDevelopmentKeySetting + "=true", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Mpc:Auth:Authority", "https://login.example.com/realms/mpc")]
    [InlineData("Mpc:Auth:PublicKeyFile", "issuer.pem")]
    [InlineData("Mpc:Auth:AllowDevelopmentKey", "true")]
    public void Beyond_loopback_tokens_need_an_identity_provider_or_the_operators_word_for_the_development_key(string key, string value) =>
        Assert.Equal("https://0.0.0.0:7443", MpcSettings.Bind(("Mpc:Urls", "https://0.0.0.0:7443"), (key, value)).Urls);

    [Theory]
    [InlineData("http://127.0.0.1:7443;http://[::1]:7444")]
    [InlineData("http://localhost:7443")]
    [InlineData("http://unix:/run/mpc-signer/grpc.sock")]
    public void The_development_key_on_loopback_needs_no_setting(string urls) =>
        Assert.True(MpcSettings.Bind(("Mpc:Urls", urls)).Auth.UsesDevelopmentKey);

    [Fact]
    public void Options_built_in_code_are_checked_before_anything_touches_the_disk()
    {
        using var temp = new TempDirectory();
        string dataDirectory = temp.File("data");
        var options = new MpcServerOptions { DataDirectory = dataDirectory, Urls = "http://127.0.0.1:0" };
        options.Signer.MaxOpenSessionsPerKey = 0;

        var e = Assert.Throws<ServerStartupException>(() => MpcServerHost.Build(options));

        Assert.Contains("Mpc__Signer__MaxOpenSessionsPerKey='0'", Assert.Single(e.Problems));
        Assert.False(Directory.Exists(dataDirectory));
    }

    [Fact]
    public void The_shipped_appsettings_json_binds_to_the_built_in_defaults()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        Assert.True(File.Exists(file), "appsettings.json is not shipped beside mpc.dll");
        IConfiguration configuration = new ConfigurationBuilder().AddJsonFile(file, optional: false).Build();
        Assert.Contains(configuration.GetSection(ServerSettings.Section).AsEnumerable(), pair => pair.Value is not null);

        MpcServerOptions fromFile = MpcServerConfiguration.Bind(configuration);
        var defaults = new MpcServerOptions();
        foreach (ServerSetting setting in ServerSettings.All)
        {
            Assert.True(Equals(ValueAt(defaults, setting.Path), ValueAt(fromFile, setting.Path)),
                $"appsettings.json sets {setting.EnvironmentVariable} to {ValueAt(fromFile, setting.Path)}; the built-in default is {ValueAt(defaults, setting.Path)}");
        }
    }

    [Fact]
    public void The_catalogue_holds_every_leaf_and_no_computed_property()
    {
        string[] names = ServerSettings.All.Select(s => s.EnvironmentVariable).ToArray();
        Assert.Contains("Mpc__Urls", names);
        Assert.Contains("Mpc__Signer__PaillierModulusBits", names);
        Assert.Contains("Mpc__KeyEncryption__Pkcs11__PinFile", names);
        Assert.Contains("Mpc__BigNum__Backend", names);
        Assert.DoesNotContain("Mpc__ResolvedMasterKeyDirectory", names);
        Assert.DoesNotContain("Mpc__Cluster__IsRedis", names);
        Assert.DoesNotContain("Mpc__Signer", names);
        Assert.Equal(names.Length, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    /// <summary>The value of the property a configuration path names ("Mpc:Signer:X"), read by reflection.</summary>
    internal static object? ValueAt(MpcServerOptions options, string path)
    {
        object? current = options;
        foreach (string name in path.Split(':').Skip(1))
        {
            PropertyInfo property = current!.GetType().GetProperty(name, BindingFlags.Public | BindingFlags.Instance)!;
            current = property.GetValue(current);
        }
        return current;
    }

    /// <summary>A value as the configuration binder would read it from text.</summary>
    internal static object? Convert(string text, Type type)
    {
        Type target = Nullable.GetUnderlyingType(type) ?? type;
        return target == typeof(string) ? text : TypeDescriptor.GetConverter(target).ConvertFromInvariantString(text);
    }
}
