using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mpc.Client;
using Mpc.Client.DependencyInjection;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;

namespace Mpc.Server.Tests.Sdk;

/// <summary>
/// <c>services.AddMpcSigner</c>: a client resolved from a container (options from code or from configuration)
/// creates a key and signs against a real server, and a bad setting fails with one message that names it.
/// </summary>
[Collection("server")]
public sealed class AddMpcSignerTests(ServerFixture server)
{
    private const string User = "di-user";

    [Fact]
    public async Task A_client_resolved_from_the_container_creates_a_key_and_signs_a_signature_dotnet_verifies()
    {
        var services = new ServiceCollection();
        services.AddMpcSigner(o =>
        {
            o.Address = server.Address;
            o.Token = server.Token(User);
            o.ConfigureClient = client => client.DeviceProfileStore = server.DeviceProfiles;
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        MpcSignerClient client = provider.GetRequiredService<MpcSignerClient>();
        Assert.Same(client, provider.GetRequiredService<MpcSignerClient>());
        Assert.Same(client, provider.GetRequiredService<IMpcSignerClient>());

        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        byte[] document = "signed through the container"u8.ToArray();
        MpcSignature signature = await client.SignDataAsync(key, document);

        using ECDsa verifier = ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _);
        Assert.True(verifier.VerifyData(document, signature.ToP1363(), HashAlgorithmName.SHA256));
    }

    [Fact]
    public async Task Options_bound_from_the_MpcSigner_configuration_section_reach_the_client_and_its_key_directory()
    {
        using var keys = new TempDirectory();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MpcSigner:Address"] = server.Address.ToString(),
            ["MpcSigner:Token"] = server.Token(User),
            ["MpcSigner:CallTimeout"] = "00:00:30",
            ["MpcSigner:PrecomputedRandomness"] = "0",
            ["MpcSigner:KeyStoreDirectory"] = Path.Combine(keys.Path, "keys"),
        }).Build();
        var services = new ServiceCollection();
        services.AddMpcSigner(configuration, o => o.ConfigureClient = client => client.DeviceProfileStore = server.DeviceProfiles);
        await using ServiceProvider provider = services.BuildServiceProvider();

        MpcSignerOptions bound = provider.GetRequiredService<IOptions<MpcSignerOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(30), bound.CallTimeout);
        Assert.Equal(0, bound.PrecomputedRandomness);
        MpcSignerClient client = provider.GetRequiredService<MpcSignerClient>();
        ClientKeyDirectory directory = provider.GetRequiredService<ClientKeyDirectory>();

        using MpcKey key = await client.CreateKeyAsync(CurveKind.Secp256k1);
        directory.Save(key.Share, User, KeyFileProtection.Unprotected());
        Assert.Equal([key.KeyId], directory.KeyIdsStored());
        using MpcKey refreshed = await directory.RefreshAsync(client, key, User, KeyFileProtection.Unprotected());
        Assert.False(File.Exists(PendingKeyFile.PendingPathOf(directory.PathOf(key.KeyId))));
        using MpcKey reopened = client.OpenKey(directory.Load(key.KeyId, KeyFileProtection.Unprotected()));
        Assert.Equal(refreshed.Share.ShareId, reopened.Share.ShareId);
        Assert.NotEqual(key.Share.ShareId, reopened.Share.ShareId);
        byte[] document = "after a refresh"u8.ToArray();
        MpcSignature signature = await client.SignDataAsync(reopened, document);
        using ECDsa verifier = ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo(reopened.SubjectPublicKeyInfo, out _);
        Assert.True(verifier.VerifyData(document, signature.ToP1363(), HashAlgorithmName.SHA256));
    }

    [Fact]
    public void Missing_address_and_token_fail_with_one_message_naming_both_settings()
    {
        var services = new ServiceCollection();
        services.AddMpcSigner(_ => { });
        using ServiceProvider provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<MpcSignerClient>());
        Assert.Contains("MpcSigner:Address is required", e.Message);
        Assert.Contains("set exactly one of Token and TokenProvider", e.Message);
    }

    [Fact]
    public void Plain_http_to_a_remote_host_is_refused_unless_allowed_and_the_message_says_how()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Address"] = "http://signer.example:7443",
            ["Token"] = "t",
            ["CallTimeout"] = "-00:00:01",
            ["DeviceProfilePath"] = "/tmp/profile",
        }).Build();
        var services = new ServiceCollection();
        services.AddMpcSigner(configuration);
        using ServiceProvider provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<MpcSignerClient>());
        Assert.Contains("MpcSigner:Address: Refusing plain http to signer.example", e.Message);
        Assert.Contains("MpcSigner:CallTimeout must be positive", e.Message);
        Assert.Contains("MpcSigner:DeviceProfilePassphrase is required with DeviceProfilePath", e.Message);

        var allowed = new ServiceCollection();
        allowed.AddMpcSigner(configuration, o => { o.AllowInsecureHttp = true; o.CallTimeout = TimeSpan.FromSeconds(5); o.DeviceProfilePath = null; });
        using ServiceProvider allowedProvider = allowed.BuildServiceProvider();
        Assert.NotNull(allowedProvider.GetRequiredService<MpcSignerClient>());
    }

    [Fact]
    public void A_key_directory_is_not_resolved_when_none_is_configured()
    {
        var services = new ServiceCollection();
        services.AddMpcSigner(o => { o.Address = server.Address; o.Token = "t"; });
        using ServiceProvider provider = services.BuildServiceProvider();

        var e = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<ClientKeyDirectory>());
        Assert.Contains("MpcSigner:KeyStoreDirectory", e.Message);
    }
}
