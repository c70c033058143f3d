using System.Collections.Immutable;
using System.Net;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Mpc.Server;

/// <summary>
/// Bearer-token validation: the development key, a static PEM key (EC or RSA), or an OpenID Connect
/// authority whose JWKS is fetched, cached and refreshed by JwtBearer's configuration manager. Refusals
/// answer as gRPC does (grpc-status in the response headers), so a client sees why its token was refused.
/// </summary>
internal static class AuthenticationSetup
{
    /// <summary>Longest refusal reason sent; a token's own audience or issuer can be echoed in it.</summary>
    private const int MaxReasonLength = 512;

    /// <summary>Registers authentication and the admin policy; every configuration error is thrown here, at start-up, as one line.</summary>
    public static void AddMpcAuthentication(this WebApplicationBuilder builder, MpcServerOptions options, string dataDirectory)
    {
        AuthOptions auth = options.Auth;
        SecurityKey? staticKey = null;
        Uri? authority = null;
        if (auth.Authority is { Length: > 0 } authorityText)
        {
            if (auth.PublicKeyFile is { Length: > 0 })
            {
                throw new InvalidOperationException(
                    $"{AuthOptions.AuthoritySetting} and {AuthOptions.PublicKeyFileSetting} are both set; tokens come from one identity provider: keep one of them.");
            }
            authority = CheckAuthority(auth, authorityText);
        }
        else if (auth.PublicKeyFile is { Length: > 0 } publicKeyFile)
        {
            staticKey = TokenSigningKeys.LoadPublicKey(publicKeyFile, AuthOptions.PublicKeyFileSetting);
        }
        else
        {
            var tokens = DevelopmentTokens.Open(dataDirectory, create: true);
            builder.Services.AddSingleton(tokens);
            staticKey = tokens.ValidationKey;
        }

        // The validator has already refused a malformed list.
        _ = OperatorSubjects.TryParse(auth.AdminSubjects, out ImmutableHashSet<string> operators);
        builder.Services.AddSingleton<IAuthorizationHandler, OperatorRequirementHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, GrpcAuthorizationResultHandler>();
        builder.Services.AddAuthorization(authorization => authorization.AddPolicy(SignerAdminService.AdminPolicy,
            policy => policy.RequireAuthenticatedUser().AddRequirements(new OperatorRequirement(operators))));
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(jwt =>
        {
            jwt.MapInboundClaims = false;
            jwt.IncludeErrorDetails = true;
            jwt.TokenValidationParameters = new TokenValidationParameters
            {
                // With an authority and no configured issuer, the issuer of its discovery document is required.
                ValidIssuer = auth.Issuer is { Length: > 0 } issuer ? issuer : authority is null ? AuthOptions.DevelopmentIssuer : null,
                ValidAudience = auth.Audience,
                ValidateIssuerSigningKey = true,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                // Asymmetric signatures only: an HMAC "signed" with a public key is never a question.
                ValidAlgorithms =
                [
                    SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
                    SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
                    SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
                ],
                ClockSkew = TimeSpan.FromSeconds(30),
            };
            if (authority is null)
            {
                jwt.RequireHttpsMetadata = false; // no metadata is fetched
                jwt.TokenValidationParameters.IssuerSigningKey = staticKey;
            }
            else
            {
                jwt.Authority = auth.Authority;
                if (auth.MetadataAddress is { Length: > 0 } metadataAddress)
                {
                    jwt.MetadataAddress = metadataAddress;
                }
                jwt.RequireHttpsMetadata = auth.RequireHttpsMetadata;
                jwt.RefreshOnIssuerKeyNotFound = true;
                jwt.AutomaticRefreshInterval = auth.KeysRefreshInterval;
                jwt.RefreshInterval = auth.KeysMinimumRefreshInterval;
            }
            jwt.Events = new JwtBearerEvents { OnChallenge = AnswerAsGrpc };
        });
        if (authority is not null)
        {
            builder.Services.AddHostedService<IdentityProviderWarmUp>();
            // Runs after JwtBearer's own post-configuration, which creates the configuration manager. Without this a
            // key the provider withdrew (rotated out, or compromised) would still validate for an hour, from the
            // "last known good" configuration kept beside the current one.
            builder.Services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, jwt =>
            {
                if (jwt.ConfigurationManager is Microsoft.IdentityModel.Tokens.BaseConfigurationManager manager)
                {
                    manager.UseLastKnownGoodConfiguration = false;
                }
            });
        }
    }

    /// <summary>An absolute http(s) URL; plain http or unchecked-https metadata only for a loopback authority (tests).</summary>
    private static Uri CheckAuthority(AuthOptions auth, string authorityText)
    {
        if (!Uri.TryCreate(authorityText, UriKind.Absolute, out Uri? authority) || (authority.Scheme != Uri.UriSchemeHttps && authority.Scheme != Uri.UriSchemeHttp))
        {
            throw new InvalidOperationException(
                $"{AuthOptions.AuthoritySetting} '{authorityText}' is not an absolute https URL (the identity provider's issuer, e.g. https://login.example.com/realms/mpc).");
        }
        Uri metadata = authority;
        if (auth.MetadataAddress is { Length: > 0 } metadataText && !Uri.TryCreate(metadataText, UriKind.Absolute, out metadata!))
        {
            throw new InvalidOperationException($"{AuthOptions.MetadataAddressSetting} '{metadataText}' is not an absolute URL.");
        }
        bool loopback = authority.IsLoopback && metadata.IsLoopback;
        if (!auth.RequireHttpsMetadata && !loopback)
        {
            throw new InvalidOperationException(
                $"{AuthOptions.RequireHttpsMetadataSetting}=false is allowed only for a loopback authority (tests); {AuthOptions.AuthoritySetting} '{authorityText}' is not loopback.");
        }
        if (auth.RequireHttpsMetadata && (authority.Scheme != Uri.UriSchemeHttps || metadata.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException(
                $"{(authority.Scheme != Uri.UriSchemeHttps ? AuthOptions.AuthoritySetting : AuthOptions.MetadataAddressSetting)} " +
                $"'{(authority.Scheme != Uri.UriSchemeHttps ? authorityText : auth.MetadataAddress)}' is plain http: use https" +
                (loopback ? $", or set {AuthOptions.RequireHttpsMetadataSetting}=false for a loopback test provider." : "."));
        }
        if (auth.KeysMinimumRefreshInterval < TimeSpan.FromSeconds(1) || auth.KeysRefreshInterval < auth.KeysMinimumRefreshInterval)
        {
            throw new InvalidOperationException(
                $"{AuthOptions.KeysMinimumRefreshIntervalSetting} must be at least 00:00:01 and no longer than {AuthOptions.KeysRefreshIntervalSetting}.");
        }
        return authority;
    }

    /// <summary>
    /// A refused token is answered with HTTP 401 and JwtBearer's WWW-Authenticate header (error="invalid_token",
    /// error_description="The token expired at ..."), plus grpc-status UNAUTHENTICATED and the description as
    /// grpc-message: gRPC clients then report the reason, and expose WWW-Authenticate among the trailers.
    /// </summary>
    private static Task AnswerAsGrpc(JwtBearerChallengeContext context)
    {
        if (context.ErrorDescription is { Length: > MaxReasonLength } description)
        {
            context.ErrorDescription = description[..MaxReasonLength] + "…";
        }
        if (context.ErrorDescription is not { Length: > 0 } && Describe(context.AuthenticateFailure) is { } refused)
        {
            // JwtBearer describes only some refusals; the rest say what is wrong with the token by their type alone
            // (never by their message, which may quote the token). The header then carries it as the others.
            context.ErrorDescription = refused;
        }
        string reason = context.ErrorDescription is { Length: > 0 } known ? known
            : context.AuthenticateFailure is null ? "a bearer token is required (authorization: Bearer <JWT>)"
            // Not a refusal of the token: the identity provider's keys could not be fetched, which may pass.
            : "the server could not validate the token; try again later";
        SetGrpcStatus(context.Response, Grpc.Core.StatusCode.Unauthenticated, reason);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A refusal of the token itself that JwtBearer gives no description, from its type (SecurityTokenInvalidTypeException
    /// is "InvalidType"); null for a failure that is not the token's.
    /// </summary>
    private static string? Describe(Exception? failure) => failure switch
    {
        // SecurityTokenMalformedException is one; a header or payload that is not JSON is a plain ArgumentException.
        ArgumentException => "The token is not a well-formed JWT",
        SecurityTokenException refused => $"The token is not valid here ({refused.GetType().Name.Replace("SecurityToken", "", StringComparison.Ordinal).Replace("Exception", "", StringComparison.Ordinal)})",
        _ => null,
    };

    internal static void SetGrpcStatus(HttpResponse response, Grpc.Core.StatusCode status, string message)
    {
        response.Headers["grpc-status"] = ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message.Length <= MaxReasonLength ? message : message[..MaxReasonLength] + "…");
    }

    /// <summary>
    /// The warnings, shown even with Quiet, for what the settings check let through on the operator's word
    /// (the development key beyond loopback) or left to the identity provider (who may hold the admin scope).
    /// </summary>
    public static void LogStartupWarnings(ILogger logger, MpcServerOptions options)
    {
        AuthOptions auth = options.Auth;
        string[] beyondLoopback = ListenUrls.BeyondLoopback(options.Urls).Select(url => url.Url).ToArray();
        if (auth.UsesDevelopmentKey && beyondLoopback.Length > 0)
        {
            logger.LogWarning(
                "Tokens are checked with the data directory's development key while listening beyond loopback ({Urls}) because {Setting}=true: " +
                "whoever holds a copy of the data directory can mint tokens for any user and for operators; set {Authority} or {PublicKeyFile} for real users",
                string.Join(", ", beyondLoopback), AuthOptions.AllowDevelopmentKeySetting, AuthOptions.AuthoritySetting, AuthOptions.PublicKeyFileSetting);
        }
        if (!auth.UsesDevelopmentKey && string.IsNullOrWhiteSpace(auth.AdminSubjects))
        {
            logger.LogWarning(
                "Operator calls are allowed to any token with the scope {Scope} ({Setting} is unset): the identity provider must issue that scope only to a dedicated confidential admin client",
                SignerAdminService.AdminScope, AuthOptions.AdminSubjectsSetting);
        }
    }

    /// <summary>Operator calls need the scope <see cref="SignerAdminService.AdminScope"/> and, when <see cref="AuthOptions.AdminSubjects"/> is set, a listed subject.</summary>
    private sealed record OperatorRequirement(ImmutableHashSet<string> Subjects) : IAuthorizationRequirement;

    /// <summary>Checks <see cref="OperatorRequirement"/>; the failure says which half is missing.</summary>
    private sealed class OperatorRequirementHandler : AuthorizationHandler<OperatorRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, OperatorRequirement requirement)
        {
            if (!SignerAdminService.HasAdminScope(context.User))
            {
                context.Fail(new AuthorizationFailureReason(this,
                    $"this call is for operators: the token needs the scope '{SignerAdminService.AdminScope}'"));
            }
            else if (!requirement.Subjects.IsEmpty && !requirement.Subjects.Contains(context.User.FindFirst("sub")?.Value ?? ""))
            {
                context.Fail(new AuthorizationFailureReason(this,
                    $"this call is for operators: the token's subject is not one of {AuthOptions.AdminSubjectsSetting}"));
            }
            else
            {
                context.Succeed(requirement);
            }
            return Task.CompletedTask;
        }
    }

    /// <summary>A forbidden call (valid token, missing scope) answers PERMISSION_DENIED with the reasons of the failed requirements.</summary>
    private sealed class GrpcAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
        {
            if (authorizeResult.Forbidden)
            {
                string reason = authorizeResult.AuthorizationFailure?.FailureReasons.Select(r => r.Message).FirstOrDefault()
                    ?? "the token does not allow this call";
                SetGrpcStatus(context.Response, Grpc.Core.StatusCode.PermissionDenied, reason);
            }
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }
    }
}
