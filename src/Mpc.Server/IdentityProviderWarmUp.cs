using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mpc.Server;

/// <summary>
/// Fetches the identity provider's discovery document and JWKS once at start-up, in the background: the first
/// user does not wait for it, and an unreachable or misconfigured provider is logged as a warning (the token
/// library reports fetch failures only to its own event source, and refuses tokens as "signed by an unknown key").
/// </summary>
internal sealed class IdentityProviderWarmUp(
    IOptionsMonitor<JwtBearerOptions> jwtOptions, MpcServerOptions options, ILogger<IdentityProviderWarmUp> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        JwtBearerOptions jwt = jwtOptions.Get(JwtBearerDefaults.AuthenticationScheme);
        if (jwt.ConfigurationManager is null)
        {
            return;
        }
        try
        {
            var configuration = await jwt.ConfigurationManager.GetConfigurationAsync(stoppingToken);
            logger.LogInformation("Identity provider {Authority}: issuer {Issuer}, {KeyCount} signing keys", options.Auth.Authority, configuration.Issuer, configuration.SigningKeys.Count);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // Not fatal: the provider may come up later, and every request retries the fetch (rate-limited).
            logger.LogWarning("Identity provider {Authority}: cannot fetch its discovery document or keys ({Setting}); tokens are refused until it answers: {Reason}",
                options.Auth.Authority, AuthOptions.AuthoritySetting, e.InnerException?.Message ?? e.Message);
        }
    }
}
