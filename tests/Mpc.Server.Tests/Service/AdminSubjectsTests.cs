using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Server;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// Mpc__Auth__AdminSubjects: with it set, an operator call needs a listed subject as well as the scope mpc.admin, since
/// a scope says what a client application was granted, not who the user is. Without it, a server whose tokens come
/// from an identity provider says at start-up that the scope alone decides.
/// </summary>
public sealed class AdminSubjectsTests : IDisposable
{
    private const string ListedOperator = "ops-alice";
    private readonly TempDirectory _root = new("mpc-admin-subjects-");

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task A_token_with_the_admin_scope_but_an_unlisted_subject_cannot_unfreeze_and_a_listed_subject_can()
    {
        var server = new ServerFixture { ConfigureOptions = options => options.Auth.AdminSubjects = $"ops-bob; {ListedOperator}" };
        await server.InitializeAsync();
        try
        {
            const string user = "admin-subjects-owner";
            string keyId;
            using (MpcSignerClient owner = server.Client(user))
            using (MpcKey key = await owner.CreateKeyAsync(CurveKind.P256))
            {
                keyId = key.KeyId;
            }
            await server.FreezeInStorageAsync(user, keyId);

            using (var outsider = new MpcSignerClient(server.Address, server.AdminToken("any-user-with-the-scope")))
            {
                MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => outsider.UnfreezeKeyAsync(user, keyId));
                Assert.Equal(StatusCode.PermissionDenied, refused.Status);
                Assert.Contains(AuthOptions.AdminSubjectsSetting, refused.Message, StringComparison.Ordinal);
            }
            using (MpcSignerClient owner = server.Client(user))
            {
                Assert.True((await owner.GetKeyAsync(keyId)).Frozen);
            }

            using var listed = new MpcSignerClient(server.Address, server.AdminToken(ListedOperator));
            Assert.False((await listed.UnfreezeKeyAsync(user, keyId)).Frozen);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task With_a_public_key_file_and_no_list_the_server_warns_that_the_scope_alone_makes_an_operator()
    {
        Assert.Single(await StartupWarnings(adminSubjects: null), w => w.Contains(AuthOptions.AdminSubjectsSetting + " is unset", StringComparison.Ordinal));
        Assert.DoesNotContain(await StartupWarnings(adminSubjects: ListedOperator), w => w.Contains(AuthOptions.AdminSubjectsSetting, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ops;")]
    [InlineData(";ops")]
    [InlineData("ops; ;alice")]
    public void An_empty_entry_in_the_list_is_refused_in_one_line_naming_the_setting(string subjects)
    {
        var options = new MpcServerOptions { Auth = { AdminSubjects = subjects } };

        string line = Assert.Single(Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Validate(options)).Problems);

        Assert.StartsWith($"setting {AuthOptions.AdminSubjectsSetting}='{subjects}' is not allowed", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_subject_longer_than_a_user_id_is_refused()
    {
        var options = new MpcServerOptions { Auth = { AdminSubjects = "ops;" + new string('a', 129) } };

        string line = Assert.Single(Assert.Throws<ServerStartupException>(() => MpcServerConfiguration.Validate(options)).Problems);

        Assert.Contains("at most 128 characters", line, StringComparison.Ordinal);
    }

    private async Task<string[]> StartupWarnings(string? adminSubjects)
    {
        using TestIdentityProvider.SigningKey issuer = TestIdentityProvider.SigningKey.NewEc();
        string keyFile = _root.File($"issuer-{Guid.NewGuid():N}.pem");
        File.WriteAllText(keyFile, issuer.PublicKeyPem());
        var warnings = new CapturedWarnings();
        var options = new MpcServerOptions
        {
            DataDirectory = _root.File($"data-{Guid.NewGuid():N}"),
            Urls = "http://127.0.0.1:0",
            Quiet = true,
            Auth = { PublicKeyFile = keyFile, AdminSubjects = adminSubjects },
        };

        await using WebApplication app = MpcServerHost.Build(options, configureSilo: silo => silo.Services.AddSingleton(warnings.Provider()));

        return [.. warnings.Containing("")];
    }
}
