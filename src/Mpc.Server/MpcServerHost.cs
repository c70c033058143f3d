using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Mpc.Grains.Abstractions;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Mpc.Protocol.Keys;
using Mpc.Grains;
using Mpc.Grains.Audit;
using Mpc.Grains.Sealing;
using Mpc.Grains.Telemetry;

namespace Mpc.Server;

/// <summary>Builds the server: the gRPC service and an Orleans silo in one ASP.NET Core process.</summary>
public static class MpcServerHost
{
    /// <summary>Largest request the service accepts; key generation's client share is about 70 KiB.</summary>
    public const int MaxReceiveMessageBytes = 512 * 1024;

    public const int MaxSendMessageBytes = 1024 * 1024;

    /// <summary>
    /// The server configured the standard way: the <c>Mpc</c> section of appsettings.json,
    /// appsettings.{Environment}.json (both beside the program, optional), environment variables (<c>Mpc__*</c>) and
    /// <paramref name="args"/> (<c>--Mpc:Section:Name=value</c>), later sources winning. Every setting is checked
    /// before anything starts; a bad one throws <see cref="ServerStartupException"/> naming it.
    /// </summary>
    public static WebApplication BuildFromConfiguration(string[] args)
    {
        WebApplicationBuilder builder = CreateBuilder(args);
        MpcServerOptions options = MpcServerConfiguration.Bind(builder.Configuration);
        return Build(builder, options, BigNumBackends.Create, configureSilo: null);
    }

    /// <summary>The server with its silo; <paramref name="configureSilo"/> runs after the silo is configured (tests wrap grain storage with it).</summary>
    public static WebApplication Build(MpcServerOptions options, string[]? args = null, Action<ISiloBuilder>? configureSilo = null) =>
        Build(options, args, BigNumBackends.Create, configureSilo);

    /// <summary>
    /// Builds the server with given options (checked as configuration is) and a given big-number backend factory
    /// (production: <see cref="BigNumBackends.Create"/>). Tests pass one that fails like a missing libcrypto;
    /// configuration cannot reach this parameter, and the constant-time rule of <see cref="ServerBigNumBackend"/>
    /// applies to whatever it returns.
    /// </summary>
    public static WebApplication Build(
        MpcServerOptions options, string[]? args, Func<BigNumBackendKind, IBigNumBackend> createBackend, Action<ISiloBuilder>? configureSilo = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Build(CreateBuilder(args ?? []), options, createBackend, configureSilo);
    }

    /// <summary>The one-line message for a failure of <c>StartAsync</c> an operator can act on (a port taken at the last moment), or null.</summary>
    public static string? DescribeStartFailure(Exception e) => ListenUrls.DescribeStartFailure(e);

    private static WebApplicationBuilder CreateBuilder(string[] args) =>
        // The content root (where appsettings.json is looked for) is the program's directory, not the working
        // directory: the file ships with the program, and no file watcher lands on whatever directory the shell is in.
        WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

    private static WebApplication Build(
        WebApplicationBuilder builder, MpcServerOptions options, Func<BigNumBackendKind, IBigNumBackend> createBackend, Action<ISiloBuilder>? configureSilo)
    {
        MpcServerConfiguration.Validate(options);
        ListenUrls.EnsureKestrelAgrees(builder.Configuration, options.Urls);
        // Then, before anything touches the disk: a missing libcrypto refuses start-up unless managed is named.
        ServerBigNumBackend bigNum = ServerBigNumBackend.Choose(
            options.BigNum, Environment.GetEnvironmentVariable(BigNumBackends.EnvironmentVariable), createBackend);
        string dataDirectory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(dataDirectory);
        // Embedded grain files belong to one process. Redis-mode silos keep no state there and may share it
        // (compose shares the development token key that way), so they take no lock.
        DataDirectoryLock? dataLock = options.Cluster.IsRedis ? null : DataDirectoryLock.Acquire(dataDirectory);
        ReloadingCertificate? httpsCertificate = null;
        SiloTls? siloTls = null;
        RedisTls? redisTls = null;
        try
        {
            // After the lock: starting the same server twice names the other server, not just its port.
            ListenUrls.EnsureAvailable(options.Urls);
            // Kestrel would read these files only once the silo is up, and then fail with a stack trace: one line here.
            httpsCertificate = HttpsCertificate.Load(builder.Configuration, options.Urls, TimeProvider.System);
            // Before the silo is configured: a certificate Orleans would refuse only once the silo starts is one line here.
            siloTls = options.Cluster.IsRedis && options.Cluster.Tls.IsSet ? SiloTls.Load(options.Cluster.Tls, TimeProvider.System) : null;
            redisTls = options.Cluster.IsRedis && !string.IsNullOrEmpty(options.Cluster.Redis.CaPath) ? RedisTls.Load(options.Cluster.Redis, TimeProvider.System) : null;
            WebApplication app = Compose(builder, options, bigNum, dataDirectory, configureSilo, dataLock, httpsCertificate, siloTls, redisTls);
            // Resolved once so that the container owns them: disposing the app releases the lock and the TLS key.
            if (dataLock is not null)
            {
                _ = app.Services.GetRequiredService<DataDirectoryLock>();
            }
            if (httpsCertificate is not null)
            {
                _ = app.Services.GetRequiredService<ReloadingCertificate>();
            }
            if (siloTls is not null)
            {
                _ = app.Services.GetRequiredService<SiloTls>();
            }
            if (redisTls is not null)
            {
                _ = app.Services.GetRequiredService<RedisTls>();
            }
            return app;
        }
        catch
        {
            redisTls?.Dispose();
            siloTls?.Dispose();
            httpsCertificate?.Dispose();
            dataLock?.Dispose();
            throw;
        }
    }

    private static WebApplication Compose(
        WebApplicationBuilder builder, MpcServerOptions options, ServerBigNumBackend bigNum, string dataDirectory,
        Action<ISiloBuilder>? configureSilo, DataDirectoryLock? dataLock, ReloadingCertificate? httpsCertificate, SiloTls? siloTls, RedisTls? redisTls)
    {
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        if (options.Quiet)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        }
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Information);
        string listenUrls = GrpcWebSetup.ListenUrls(ServerTelemetry.ListenUrls(options.Urls, options.Metrics), options.Urls, options.Web);
        builder.WebHost.UseUrls(HealthPort.ListenUrls(listenUrls, options.Urls, options.Health));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = GrpcWebSetup.Protocols(endpoint, ServerTelemetry.ProtocolsFor(endpoint, options.Metrics), options.Web));
            kestrel.Limits.MaxRequestBodySize = MaxReceiveMessageBytes + 1024;
            if (httpsCertificate is not null)
            {
                kestrel.ConfigureHttpsDefaults(https => HttpsCertificate.Use(https, httpsCertificate));
            }
        });

        builder.Services.AddSingleton(options);
        if (dataLock is not null)
        {
            builder.Services.AddSingleton(_ => dataLock);
        }
        if (httpsCertificate is not null)
        {
            builder.Services.AddSingleton(_ => httpsCertificate);
        }
        if (siloTls is not null)
        {
            builder.Services.AddSingleton(_ => siloTls);
        }
        if (redisTls is not null)
        {
            builder.Services.AddSingleton(_ => redisTls);
        }
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<SignerMetrics>();
        ServerTelemetry.Configure(builder, options.Metrics);
        builder.Services.AddSingleton(bigNum);
        builder.Services.AddSingleton<IBigNumBackend>(bigNum.Backend);
        builder.Services.AddSingleton(new PaillierKeyPool(bigNum.Backend, options.Signer.PaillierModulusBits, options.KeyGen.PrimePoolSize, options.KeyGen.PrimePoolQuietPeriod));
        builder.Services.AddSingleton<IPaillierKeySource>(sp => sp.GetRequiredService<PaillierKeyPool>());
        builder.Services.AddSingleton(new VerifiedRingPedersenCache(options.KeyGen.VerifiedParametersCacheSize));
        builder.Services.AddHostedService<PaillierKeyPoolService>();
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options.Signer));
        builder.Services.AddSingleton<IKeyAuditTrail, KeyAuditTrail>();
        builder.Services.AddSingleton(KeyEncryptionSetup.ProviderFactory(options, dataDirectory));
        builder.Services.AddSingleton(sp => new ShareSealer(sp.GetRequiredService<IKeyEncryptionKeyProvider>()));

        builder.UseOrleans(silo =>
        {
            SiloSetup.Configure(silo, options.Cluster, dataDirectory, siloTls, redisTls);
            // Replaces Orleans' FailFast (a stack trace, exit code 134) with one line and a documented exit code; after
            // Orleans' own registration, and before configureSilo, which tests use to record the call instead.
            silo.Services.AddSingleton<IFatalErrorHandler>(sp =>
                new SiloFatalErrorHandler(sp.GetServices<ILoggerProvider>(), Console.Error, Environment.Exit));
            configureSilo?.Invoke(silo);
        });

        builder.AddMpcAuthentication(options, dataDirectory);
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MaxReceiveMessageBytes;
            grpc.MaxSendMessageSize = MaxSendMessageBytes;
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
        });
        builder.Services.AddMpcGrpcWeb(options.Web);
        // Health names and checks (liveness, readiness): ServerHealth.
        builder.Services.AddServerHealthChecks();
        builder.Services.AddGrpcReflection();

        WebApplication app = builder.Build();
        ILogger startupLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MpcServerHost));
        ILogger certificateLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ReloadingCertificate>();
        httpsCertificate?.LogTo(certificateLogger);
        siloTls?.LogTo(certificateLogger);
        redisTls?.LogTo(certificateLogger);
        LogBigNumBackend(startupLogger, bigNum);
        // Without the probe port: it answers health alone, so no token or share crosses it in clear.
        LogPlainHttpBeyondLoopback(startupLogger, listenUrls);
        AuthenticationSetup.LogStartupWarnings(startupLogger, options);
        LogPlainSiloTraffic(startupLogger, options.Cluster, siloTls);
        LogPlainRedisTraffic(startupLogger, options.Cluster);
        if (options.Cluster.IsRedis)
        {
            // Before the silo runs, and as one line: the silo writes freezes to this Redis.
            try
            {
                RedisDurabilityCheck.Verify(options.Cluster, redisTls, startupLogger);
            }
            catch
            {
                ((IDisposable)app).Dispose();
                throw;
            }
        }
        // Open the master key now: a wrong PIN or a missing token fails start-up, not the first keygen.
        // The container created the provider, so it disposes it (logout, library finalized) with the app.
        _ = app.Services.GetRequiredService<IKeyEncryptionKeyProvider>();
        ServerTelemetry.MapScrapeEndpoint(app, options.Metrics);
        HealthPort.RestrictToHealth(app, options.Health);
        app.UseMpcGrpcWeb(options.Web);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<MalformedRequestMiddleware>();
        app.MapGrpcService<SignerService>().WithMpcGrpcWeb(options.Web);
        app.MapGrpcService<SignerAdminService>().WithMpcGrpcWeb(options.Web);
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }

    /// <summary>
    /// The validator let plain http beyond loopback through only on the operator's word (PlainHttpBehindTlsProxy):
    /// a warning, shown even with Quiet, so that a proxy that is not in fact there can be noticed in the log.
    /// </summary>
    private static void LogPlainHttpBeyondLoopback(ILogger logger, string listenUrls)
    {
        string[] plain = ListenUrls.PlainHttpBeyondLoopback(listenUrls).Select(url => url.Url).ToArray();
        if (plain.Length > 0)
        {
            logger.LogWarning(
                "Listening on plain http beyond loopback ({Urls}): {Setting}=true says a TLS-terminating proxy is the only way in; without one, tokens and key material cross the network in clear",
                string.Join(", ", plain), MpcServerOptions.PlainHttpBehindTlsProxySetting);
        }
    }

    /// <summary>
    /// The validator let Redis mode without silo TLS through only on the operator's word (PlainSiloTraffic): a warning,
    /// shown even with Quiet, so that a private network that is not in fact private can be noticed in the log.
    /// </summary>
    private static void LogPlainSiloTraffic(ILogger logger, ClusterOptions cluster, SiloTls? siloTls)
    {
        if (cluster.IsRedis && siloTls is null)
        {
            logger.LogWarning(
                "Silo-to-silo traffic on port {Port} is plain TCP: {Setting}=true says only the signer pods reach it; without that, import seed shares and refresh factors cross the network in clear",
                cluster.SiloPort ?? ClusterOptions.DefaultRedisSiloPort, ClusterOptions.PlainSiloTrafficSetting);
        }
    }

    /// <summary>
    /// The validator let plain Redis beyond loopback through only on the operator's word (PlainRedisTraffic): a warning,
    /// shown even with Quiet, so that a network that is not in fact private can be noticed in the log. Plain Redis on
    /// loopback needs no word, so the setting with a loopback Redis warns of nothing.
    /// </summary>
    private static void LogPlainRedisTraffic(ILogger logger, ClusterOptions cluster)
    {
        if (cluster.IsRedis && cluster.PlainRedisTraffic && RedisConnection.IsLoopbackOnly(cluster.RedisConnectionString) != true)
        {
            logger.LogWarning(
                "Traffic to Redis is plain TCP: {Setting}=true says only the signer pods and Redis reach the network between them; without that, whoever can rewrite or replay a key's status record on the way can undo its freeze",
                ClusterOptions.PlainRedisTrafficSetting);
        }
    }

    private static void LogBigNumBackend(ILogger logger, ServerBigNumBackend bigNum)
    {
        if (bigNum.Backend.IsConstantTime)
        {
            logger.LogInformation("Big-number backend: {Backend}", bigNum.Description);
        }
        else
        {
            // A warning, so it shows even with Quiet: secret-dependent timing is an operator's explicit choice.
            logger.LogWarning("Big-number backend: {Backend}; Paillier decryption and nonce inversion are not constant-time", bigNum.Description);
        }
    }
}
