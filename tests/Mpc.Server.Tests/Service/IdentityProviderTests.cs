using System.Diagnostics;
using System.Security.Cryptography;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Server;
using Mpc.Testing;

namespace Mpc.Server.Tests.Service;

/// <summary>A server validating tokens from a local OpenID Connect provider (discovery + JWKS on 127.0.0.1).</summary>
public sealed class IdentityProviderFixture : IAsyncLifetime
{
    public TestIdentityProvider Provider { get; } = new();

    public ServerFixture Server { get; private set; } = null!;

    /// <summary>The provider's first EC key; the rotation test replaces it.</summary>
    public TestIdentityProvider.SigningKey Current { get; set; } = null!;

    public async Task InitializeAsync()
    {
        await Provider.StartAsync();
        Current = Provider.AddKey();
        Server = new ServerFixture
        {
            ConfigureOptions = options =>
            {
                options.Auth.Authority = Provider.Authority.AbsoluteUri;
                options.Auth.RequireHttpsMetadata = false; // loopback only, as the server enforces
                // Rotation is seen on the first token with an unknown kid, at most once a second.
                options.Auth.KeysMinimumRefreshInterval = TimeSpan.FromSeconds(1);
            },
        };
        await Server.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Provider.DisposeAsync();
    }
}

/// <summary>
/// Tokens from an identity provider's JWKS: they sign (a real two-party signature checked by .NET), survive the
/// provider's key rotation without a server restart, may be RSA; wrong audience, wrong issuer, an expired token
/// and a key the provider withdrew are refused with Unauthenticated, the expiry with a message saying so.
/// </summary>
public sealed class IdentityProviderTests(IdentityProviderFixture fixture) : IClassFixture<IdentityProviderFixture>
{
    private TestIdentityProvider Provider => fixture.Provider;

    private MpcSignerClient Client(string token) =>
        new(fixture.Server.Address, token, new MpcSignerClientOptions { DeviceProfileStore = fixture.Server.DeviceProfiles });

    private async Task<StatusCode> ListKeysStatus(string token)
    {
        using MpcSignerClient client = Client(token);
        try
        {
            await client.ListKeysAsync();
            return StatusCode.OK;
        }
        catch (MpcSignerException e)
        {
            return e.Status!.Value;
        }
    }

    [Fact]
    public async Task A_token_from_the_JWKS_endpoint_creates_a_key_and_signs()
    {
        using MpcSignerClient client = Client(Provider.Token(fixture.Current, "jwks-signer"));
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        byte[] digest = SHA256.HashData("signed with a token from the identity provider"u8);
        MpcSignature signature = await client.SignDigestAsync(key, digest);

        using ECDsa verifier = ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo((await client.GetKeyAsync(key.KeyId)).SubjectPublicKeyInfo, out _);
        Assert.True(verifier.VerifyHash(digest, signature.ToP1363()));
    }

    [Fact]
    public async Task After_the_provider_rotates_its_key_new_tokens_work_without_a_restart_and_the_old_key_is_refused()
    {
        Assert.Equal(StatusCode.OK, await ListKeysStatus(Provider.Token(fixture.Current, "rotation")));
        TestIdentityProvider.SigningKey old = fixture.Current;
        TestIdentityProvider.SigningKey next = Provider.AddKey();
        Provider.Remove(old);
        fixture.Current = next;
        int fetchesBefore = Provider.JwksFetches;

        // The first token with the unknown kid makes the server refetch the JWKS (at most once a second); until then
        // the new key's tokens are Unauthenticated, never anything else.
        var clock = Stopwatch.StartNew();
        await Poll.UntilAsync(TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250), async () =>
        {
            StatusCode status = await ListKeysStatus(Provider.Token(next, "rotation"));
            if (status != StatusCode.OK)
            {
                Assert.Equal(StatusCode.Unauthenticated, status);
            }
            return status == StatusCode.OK;
        }, () => $"the rotated-in key's tokens were still refused after 20 s; JWKS fetches {fetchesBefore} -> {Provider.JwksFetches}");
        Assert.True(Provider.JwksFetches > fetchesBefore);
        StatusCode oldStatus = await ListKeysStatus(Provider.Token(old, "rotation"));
        Assert.True(oldStatus == StatusCode.Unauthenticated, $"old key: {oldStatus}; fetches {fetchesBefore} -> {Provider.JwksFetches}; {clock.Elapsed}");
        old.Dispose();
    }

    [Fact]
    public async Task An_RSA_signed_token_from_the_JWKS_is_accepted()
    {
        TestIdentityProvider.SigningKey rsa = Provider.AddKey(rsa: true);
        StatusCode status = StatusCode.Unknown;
        await Poll.UntilAsync(TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250),
            async () => (status = await ListKeysStatus(Provider.Token(rsa, "rsa-user"))) == StatusCode.OK,
            () => $"an RS256 token from the JWKS still got {status} after 20 s");
    }

    [Fact]
    public async Task Wrong_audience_wrong_issuer_and_a_foreign_key_are_Unauthenticated()
    {
        Assert.Equal(StatusCode.OK, await ListKeysStatus(Provider.Token(fixture.Current, "claims")));
        Assert.Equal(StatusCode.Unauthenticated, await ListKeysStatus(Provider.Token(fixture.Current, "claims", audience: "another-service")));
        Assert.Equal(StatusCode.Unauthenticated, await ListKeysStatus(Provider.Token(fixture.Current, "claims", issuer: "https://evil.example")));
        using TestIdentityProvider.SigningKey unpublished = TestIdentityProvider.SigningKey.NewEc();
        Assert.Equal(StatusCode.Unauthenticated, await ListKeysStatus(Provider.Token(unpublished, "claims")));

        using MpcSignerClient client = Client(Provider.Token(fixture.Current, "claims", audience: "another-service"));
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.ListKeysAsync());
        Assert.Equal("Unauthenticated: the token was refused: it is for another service (its audience is not this server's); get a token for this server", refused.Message);
        using MpcSignerClient otherIssuer = Client(Provider.Token(fixture.Current, "claims", issuer: "https://evil.example"));
        refused = await Assert.ThrowsAsync<MpcSignerException>(() => otherIssuer.ListKeysAsync());
        Assert.Equal("Unauthenticated: the token was refused: its issuer is not the identity provider this server trusts; get a token for this server", refused.Message);
        using MpcSignerClient foreign = Client(Provider.Token(unpublished, "claims"));
        refused = await Assert.ThrowsAsync<MpcSignerException>(() => foreign.ListKeysAsync());
        Assert.Equal("Unauthenticated: the token was refused: it is signed by a key this server does not know; get a token for this server", refused.Message);
    }

    [Fact]
    public async Task An_expired_token_is_refused_with_its_expiry_time()
    {
        DateTime expired = DateTime.UtcNow.AddMinutes(-5);
        string token = Provider.Token(fixture.Current, "expired", lifetime: expired - DateTime.UtcNow);
        using MpcSignerClient client = Client(token);
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.ListKeysAsync());
        Assert.Equal(StatusCode.Unauthenticated, refused.Status);
        // The token's exp has whole seconds.
        var exp = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).ValidTo;
        Assert.Equal($"Unauthenticated: token expired at {exp:yyyy-MM-dd HH:mm:ss} UTC; get a new token", refused.Message);
    }
}
