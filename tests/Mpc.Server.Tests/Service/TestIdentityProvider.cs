using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// A minimal OpenID Connect identity provider on 127.0.0.1: a discovery document and a JWKS whose keys the test
/// rotates, and tokens signed with them (ES256 or RS256). It counts JWKS fetches so tests see the server's caching.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly List<SigningKey> _published = [];
    private WebApplication? _app;
    private int _jwksFetches;

    public Uri Authority { get; private set; } = null!;

    /// <summary>The issuer in the discovery document and in the tokens minted here.</summary>
    public string Issuer => Authority.AbsoluteUri.TrimEnd('/');

    public int JwksFetches => Volatile.Read(ref _jwksFetches);

    public async Task StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/.well-known/openid-configuration", () => Results.Text(
            new JsonObject
            {
                ["issuer"] = Issuer,
                ["jwks_uri"] = Issuer + "/jwks",
                ["id_token_signing_alg_values_supported"] = new JsonArray("ES256", "RS256"),
            }.ToJsonString(), "application/json"));
        _app.MapGet("/jwks", () =>
        {
            Interlocked.Increment(ref _jwksFetches);
            JsonArray keys = [];
            lock (_gate)
            {
                foreach (SigningKey key in _published)
                {
                    keys.Add(key.PublicJwk());
                }
            }
            return Results.Text(new JsonObject { ["keys"] = keys }.ToJsonString(), "application/json");
        });
        await _app.StartAsync();
        Authority = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    /// <summary>A new key, published in the JWKS from now on.</summary>
    public SigningKey AddKey(bool rsa = false)
    {
        var key = rsa ? SigningKey.NewRsa() : SigningKey.NewEc();
        lock (_gate)
        {
            _published.Add(key);
        }
        return key;
    }

    /// <summary>Stops publishing <paramref name="key"/> (the provider's rotation removes the old key).</summary>
    public void Remove(SigningKey key)
    {
        lock (_gate)
        {
            _published.Remove(key);
        }
    }

    public string Token(SigningKey key, string user, string audience = "mpc-signer", string? issuer = null, TimeSpan? lifetime = null, bool admin = false)
    {
        DateTime now = DateTime.UtcNow;
        DateTime expires = now.Add(lifetime ?? TimeSpan.FromMinutes(10));
        List<Claim> claims = [new(JwtRegisteredClaimNames.Sub, user)];
        if (admin)
        {
            claims.Add(new Claim("scope", "mpc.admin"));
        }
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = expires < now ? expires.AddMinutes(-10) : now,
            NotBefore = expires < now ? expires.AddMinutes(-10) : now.AddSeconds(-5),
            Expires = expires,
            SigningCredentials = key.Credentials,
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        lock (_gate)
        {
            foreach (SigningKey key in _published)
            {
                key.Dispose();
            }
        }
    }

    /// <summary>One signing key of the provider, with a fresh random kid.</summary>
    public sealed class SigningKey : IDisposable
    {
        private readonly AsymmetricAlgorithm _key;

        private SigningKey(AsymmetricAlgorithm key, SigningCredentials credentials)
        {
            _key = key;
            Credentials = credentials;
        }

        public string KeyId => Credentials.Key.KeyId;

        public SigningCredentials Credentials { get; }

        public static SigningKey NewEc()
        {
            var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var key = new ECDsaSecurityKey(ec) { KeyId = NewKeyId(), CryptoProviderFactory = Uncached() };
            return new SigningKey(ec, new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256));
        }

        public static SigningKey NewRsa()
        {
            var rsa = RSA.Create(2048);
            var key = new RsaSecurityKey(rsa) { KeyId = NewKeyId(), CryptoProviderFactory = Uncached() };
            return new SigningKey(rsa, new SigningCredentials(key, SecurityAlgorithms.RsaSha256));
        }

        /// <summary>The public key in SubjectPublicKeyInfo PEM (for a static-key server).</summary>
        public string PublicKeyPem() => _key switch
        {
            ECDsa ec => ec.ExportSubjectPublicKeyInfoPem(),
            RSA rsa => rsa.ExportSubjectPublicKeyInfoPem(),
            _ => throw new InvalidOperationException(),
        };

        public JsonObject PublicJwk()
        {
            if (_key is ECDsa ec)
            {
                ECParameters p = ec.ExportParameters(includePrivateParameters: false);
                return new JsonObject
                {
                    ["kty"] = "EC", ["use"] = "sig", ["alg"] = "ES256", ["kid"] = KeyId, ["crv"] = "P-256",
                    ["x"] = Base64Url.EncodeToString(p.Q.X), ["y"] = Base64Url.EncodeToString(p.Q.Y),
                };
            }
            RSAParameters r = ((RSA)_key).ExportParameters(includePrivateParameters: false);
            return new JsonObject
            {
                ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = KeyId,
                ["n"] = Base64Url.EncodeToString(r.Modulus), ["e"] = Base64Url.EncodeToString(r.Exponent),
            };
        }

        public void Dispose() => _key.Dispose();

        private static string NewKeyId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

        private static CryptoProviderFactory Uncached() => new() { CacheSignatureProviders = false };
    }
}
