using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.ClientFactory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mpc.Client;
using Mpc.Client.DependencyInjection;
using Mpc.Client.DeviceProfiles;
using Mpc.Client.KeyStore;

// The conventional namespace of AddXxx extensions, so `services.AddMpcSigner` needs no extra using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the signing client with a dependency-injection container.</summary>
public static class MpcSignerServiceCollectionExtensions
{
    /// <summary>The name of the client's <see cref="System.Net.Http.IHttpClientFactory"/> entry, for further handler configuration.</summary>
    public const string HttpClientName = "Mpc.Client";

    /// <summary>
    /// Registers a singleton <see cref="MpcSignerClient"/> configured by <paramref name="configure"/>, its gRPC
    /// connection made by <c>Grpc.Net.ClientFactory</c> (so <c>IHttpClientFactory</c> handlers, proxies and
    /// resilience apply), logging through the container's <see cref="ILoggerFactory"/>, and, when
    /// <see cref="MpcSignerOptions.KeyStoreDirectory"/> is set, a <see cref="ClientKeyDirectory"/>.
    /// </summary>
    /// <returns>The HTTP client builder of the connection, for more handler configuration.</returns>
    public static IHttpClientBuilder AddMpcSigner(this IServiceCollection services, Action<MpcSignerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddMpcSignerCore(builder => builder.Configure(configure));
    }

    /// <summary>
    /// As <see cref="AddMpcSigner(IServiceCollection, Action{MpcSignerOptions})"/>, with the options bound from
    /// <paramref name="configuration"/>: the "MpcSigner" section of a whole configuration, or the section itself
    /// (Address, Token, AllowInsecureHttp, TrustedCaCertificateFiles, CallTimeout, PrecomputedRandomness,
    /// KeyStoreDirectory, DeviceProfilePath, DeviceProfilePassphrase, DeviceId); <paramref name="configure"/> runs after
    /// (for a <see cref="MpcSignerOptions.TokenProvider"/>).
    /// </summary>
    public static IHttpClientBuilder AddMpcSigner(this IServiceCollection services, IConfiguration configuration, Action<MpcSignerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfiguration section = configuration.GetSection(MpcSignerOptions.SectionName) is { } named && named.Exists() ? named : configuration;
        return services.AddMpcSignerCore(builder =>
        {
            builder.Bind(section);
            if (configure is not null)
            {
                builder.Configure(configure);
            }
        });
    }

    private static IHttpClientBuilder AddMpcSignerCore(this IServiceCollection services, Action<OptionsBuilder<MpcSignerOptions>> options)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<MpcSignerOptions> builder = services.AddOptions<MpcSignerOptions>();
        options(builder);
        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MpcSignerOptions>, MpcSignerOptionsValidator>());

        IHttpClientBuilder http = services
            .AddGrpcClient<CallInvokerHolder>(HttpClientName, (provider, factory) =>
                factory.Address = provider.GetRequiredService<IOptions<MpcSignerOptions>>().Value.Address)
            .ConfigureGrpcClientCreator(invoker => new CallInvokerHolder(invoker))
            .ConfigureChannel((provider, channel) =>
            {
                channel.MaxReceiveMessageSize = MpcSignerClient.MaxReceiveMessageSize;
                channel.MaxSendMessageSize = MpcSignerClient.MaxSendMessageSize;
                channel.LoggerFactory = provider.GetService<ILoggerFactory>();
            })
            .ConfigurePrimaryHttpMessageHandler(provider => PrimaryHandler(provider.GetRequiredService<IOptions<MpcSignerOptions>>().Value))
            // The singleton client keeps its invoker for life, so the handler is never rotated under it; SocketsHttpHandler's
            // own connection lifetime (below) picks up DNS changes instead.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);

        services.TryAddSingleton(provider =>
        {
            MpcSignerOptions settings = provider.GetRequiredService<IOptions<MpcSignerOptions>>().Value;
            CallInvoker invoker = provider.GetRequiredService<GrpcClientFactory>().CreateClient<CallInvokerHolder>(HttpClientName).Invoker;
            string? token = settings.Token;
            Func<CancellationToken, ValueTask<string>> tokenProvider = settings.TokenProvider ?? (_ => ValueTask.FromResult(token!));
            return new MpcSignerClient(invoker, settings.Address!, tokenProvider, ClientOptions(settings, provider.GetService<ILoggerFactory>()));
        });
        // The interface resolves to the same singleton, so code that mocks IMpcSignerClient and code that takes the class share one connection.
        services.TryAddSingleton<IMpcSignerClient>(provider => provider.GetRequiredService<MpcSignerClient>());
        services.TryAddSingleton(provider =>
            provider.GetRequiredService<IOptions<MpcSignerOptions>>().Value.KeyStoreDirectory is { } directory
                ? new ClientKeyDirectory(directory)
                : throw new InvalidOperationException($"No key directory is configured: set {MpcSignerOptions.SectionName}:{nameof(MpcSignerOptions.KeyStoreDirectory)}."));
        return http;
    }

    private static MpcSignerClientOptions ClientOptions(MpcSignerOptions settings, ILoggerFactory? loggerFactory)
    {
        var options = new MpcSignerClientOptions
        {
            AllowInsecureHttp = settings.AllowInsecureHttp,
            CallTimeout = settings.CallTimeout,
            PrecomputedRandomness = settings.PrecomputedRandomness,
            // Checked by the validator: an unknown name never gets here.
            Arithmetic = MpcArithmetic.FromName(settings.Arithmetic) ?? MpcArithmetic.Default,
            LoggerFactory = loggerFactory,
            DeviceProfileStore = settings.DeviceProfilePath is { } path
            ? new DeviceProfileFile(path, settings.DeviceId ?? LocalDeviceId.OfThisMachine(), KeyFileProtection.Passphrase(settings.DeviceProfilePassphrase!))
            : null,
        };
        settings.ConfigureClient?.Invoke(options);
        // The connection is IHttpClientFactory's: a handler set here would never be used.
        options.HttpHandler = null;
        return options;
    }

    private static HttpMessageHandler PrimaryHandler(MpcSignerOptions settings)
    {
        var options = new MpcSignerClientOptions();
        if (settings.TrustedCaCertificateFiles.Count > 0)
        {
            var roots = new X509Certificate2Collection();
            foreach (string file in settings.TrustedCaCertificateFiles)
            {
                roots.AddRange(LoadCertificates(file));
            }
            options.TrustedCaCertificates = roots;
        }
        return TransportSecurity.Handler(options) ?? new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
    }

    private static X509Certificate2Collection LoadCertificates(string file)
    {
        var certificates = new X509Certificate2Collection();
        byte[] contents = File.ReadAllBytes(file);
        if (contents.AsSpan().IndexOf("-----BEGIN"u8) >= 0)
        {
            certificates.ImportFromPem(System.Text.Encoding.ASCII.GetString(contents));
        }
        else
        {
            certificates.Add(X509CertificateLoader.LoadCertificate(contents));
        }
        return certificates;
    }

    /// <summary>The "typed gRPC client" the factory makes: only the call invoker, which <see cref="MpcSignerClient"/> wraps.</summary>
    internal sealed class CallInvokerHolder(CallInvoker invoker)
    {
        public CallInvoker Invoker { get; } = invoker;
    }
}
