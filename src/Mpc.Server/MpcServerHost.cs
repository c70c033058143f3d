using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using Mpc.Crypto.BigNum;
using Mpc.Grains;
using Mpc.Grains.Sealing;
using Mpc.Grains.Storage;

namespace Mpc.Server;

/// <summary>Builds the server: the gRPC service and an Orleans silo in one ASP.NET Core process.</summary>
public static class MpcServerHost
{
    /// <summary>Largest request the service accepts; key generation's client share is about 70 KiB.</summary>
    public const int MaxReceiveMessageBytes = 512 * 1024;

    public const int MaxSendMessageBytes = 1024 * 1024;

    public static WebApplication Build(MpcServerOptions options, string[]? args = null)
    {
        string dataDirectory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(dataDirectory);

        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args ?? [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        if (options.Quiet)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        }
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Information);
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http2);
            kestrel.Limits.MaxRequestBodySize = MaxReceiveMessageBytes + 1024;
        });

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IBigNumBackend>(_ => BigNumBackends.Default);
        builder.Services.AddOptions<SignerOptions>();
        string masterKeyDirectory = options.ResolvedMasterKeyDirectory;
        if (masterKeyDirectory == dataDirectory)
        {
            throw new InvalidOperationException("The master key directory must not be the data directory: a copy of the data would then decrypt itself.");
        }
        builder.Services.AddSingleton<IKeyEncryptionKeyProvider>(_ => new FileKeyEncryptionKeyProvider(masterKeyDirectory));
        builder.Services.AddSingleton(sp => new ShareSealer(sp.GetRequiredService<IKeyEncryptionKeyProvider>()));

        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(
                siloPort: options.SiloPort == 0 ? FreeTcpPort() : options.SiloPort,
                gatewayPort: options.GatewayPort == 0 ? FreeTcpPort() : options.GatewayPort,
                serviceId: "mpc-signer",
                clusterId: "embedded");
            silo.AddFileGrainStorage(StorageNames.Keys, dataDirectory);
        });

        ConfigureAuthentication(builder, options, dataDirectory);
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MaxReceiveMessageBytes;
            grpc.MaxSendMessageSize = MaxSendMessageBytes;
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
        });
        // Health answers live (no cache): SERVING once the Orleans silo is active, for "" and for the Signer service.
        builder.Services.AddGrpcHealthChecks(health =>
            {
                health.UseHealthChecksCache = false;
                health.Services.Map("", _ => true);
                health.Services.Map("mpc.signer.v1.Signer", _ => true);
            })
            .AddCheck<SiloActiveHealthCheck>("orleans-silo");
        builder.Services.AddGrpcReflection();

        WebApplication app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGrpcService<SignerService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }

    private static void ConfigureAuthentication(WebApplicationBuilder builder, MpcServerOptions options, string dataDirectory)
    {
        SecurityKey signingKey;
        if (options.Auth.PublicKeyFile is { } publicKeyFile)
        {
            var key = System.Security.Cryptography.ECDsa.Create();
            key.ImportFromPem(File.ReadAllText(publicKeyFile));
            signingKey = DevelopmentTokens.SecurityKeyFor(key);
        }
        else
        {
            var tokens = DevelopmentTokens.Open(dataDirectory, create: true);
            builder.Services.AddSingleton(tokens);
            signingKey = tokens.ValidationKey;
        }
        builder.Services.AddAuthorization();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(jwt =>
        {
            jwt.MapInboundClaims = false;
            jwt.RequireHttpsMetadata = false;
            jwt.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = options.Auth.Issuer,
                ValidAudience = options.Auth.Audience,
                IssuerSigningKey = signingKey,
                ValidateIssuerSigningKey = true,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ClockSkew = TimeSpan.FromSeconds(30),
            };
        });
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
