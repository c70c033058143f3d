using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mpc.Client;
using Mpc.Client.DeviceProfiles;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Proofs;
using Mpc.Grains;
using Mpc.Grains.Storage;
using Mpc.Server;
using Orleans.Storage;

namespace Mpc.Testing;

/// <summary>A real server in this process: Kestrel on a loopback port, an Orleans silo, file storage in a temp directory.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private readonly bool _ownsRingPedersen;
    private WebApplication? _app;
    private IMeterFactory? _meterFactory;

    public ServerFixture()
        : this(Directory.CreateTempSubdirectory("mpc-server-").FullName)
    {
    }

    /// <summary>
    /// A server on a data directory the caller made (to build storage around it before the server starts); with
    /// <paramref name="ringPedersen"/>, its clients use those parameters, which the caller owns (several silos of one test).
    /// </summary>
    internal ServerFixture(string dataDirectory, RingPedersenSecret? ringPedersen = null)
    {
        DataDirectory = dataDirectory;
        _ownsRingPedersen = ringPedersen is null;
        RingPedersen = ringPedersen ?? RingPedersenSecret.Generate(BigNumBackends.Default);
        DeviceProfiles = InMemoryDeviceProfileStore.Around(RingPedersen);
    }

    /// <summary>
    /// A server on a fresh data directory whose key storage is the real file storage seen through <paramref name="wrap"/>
    /// (storage that fails or hangs on demand), the same wrapper on every start; the wrapper is returned for the test to
    /// drive.
    /// </summary>
    internal static (ServerFixture Server, TStorage Storage) WithWrappedKeyStorage<TStorage>(string directoryPrefix, Func<IGrainStorage, TStorage> wrap)
        where TStorage : class, IGrainStorage
    {
        string dataDirectory = Directory.CreateTempSubdirectory(directoryPrefix).FullName;
        TStorage storage = wrap(new FileGrainStorage(StorageNames.Keys, dataDirectory, StoredKeys.Serializer));
        var server = new ServerFixture(dataDirectory)
        {
            ConfigureSilo = silo => silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Keys, storage),
        };
        return (server, storage);
    }

    public string DataDirectory { get; }

    public string MasterKeyDirectory => DataDirectory + "-kek";

    public Uri Address { get; private set; } = null!;

    /// <summary>One device's ring-Pedersen parameters, shared by every client in the tests (safe primes are slow).</summary>
    public RingPedersenSecret RingPedersen { get; }

    /// <summary>A device-profile store holding <see cref="RingPedersen"/>, for <see cref="MpcSignerClientOptions.DeviceProfileStore"/>.</summary>
    public InMemoryDeviceProfileStore DeviceProfiles { get; }

    public async Task InitializeAsync() => await StartAsync();

    /// <summary>Applied to the silo on every start (fault-injecting storage in the freeze tests).</summary>
    public Action<Orleans.Hosting.ISiloBuilder>? ConfigureSilo { get; init; }

    /// <summary>Applied to the server options on every start.</summary>
    public Action<MpcServerOptions>? ConfigureOptions { get; init; }

    /// <summary>The running server's services (its grain factory, its meter factory).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The server is not running.");

    /// <summary>The running server's meter factory; null while it is stopped. Safe from any thread (metric callbacks).</summary>
    public IMeterFactory? MeterFactory => Volatile.Read(ref _meterFactory);

    /// <summary>
    /// Whether <paramref name="instrument"/> is this running server's: a <see cref="MeterListener"/> sees the instruments
    /// of every server in the test process, and a test that counts or compares measurements must take its own server's
    /// only. False while the server is stopped. Never throws (metric callbacks run inside other servers' grains).
    /// </summary>
    public bool Measures(Instrument instrument) => MeterFactory is { } factory && ReferenceEquals(instrument.Meter.Scope, factory);

    public async Task StartAsync()
    {
        var options = new MpcServerOptions { DataDirectory = DataDirectory, Urls = "http://127.0.0.1:0", KeyGen = { PrimePoolSize = TestServerPool.Size } };
        ConfigureOptions?.Invoke(options);
        _app = MpcServerHost.Build(options, configureSilo: silo =>
        {
            if (ServerLogFile.FromEnvironment() is { } logFile)
            {
                silo.Services.AddSingleton<ILoggerProvider>(logFile);
            }
            ConfigureSilo?.Invoke(silo);
        });
        Volatile.Write(ref _meterFactory, _app.Services.GetRequiredService<IMeterFactory>());
        await _app.StartAsync();
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Address = new Uri(address);
    }

    public async Task StopAsync()
    {
        Volatile.Write(ref _meterFactory, null);
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    /// <summary>Stops and starts the server on the same data directory: only what was stored survives.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    public string Token(string user, TimeSpan? lifetime = null)
    {
        using DevelopmentTokens tokens = DevelopmentTokens.Open(DataDirectory, create: false);
        return tokens.Mint(user, lifetime ?? TimeSpan.FromHours(1));
    }

    /// <summary>An operator's token (scope mpc.admin).</summary>
    public string AdminToken(string operatorName = "operator")
    {
        using DevelopmentTokens tokens = DevelopmentTokens.Open(DataDirectory, create: false);
        return tokens.Mint(operatorName, TimeSpan.FromHours(1), admin: true);
    }

    /// <summary>The server's grain factory, for looking into grain state (diagnostic views only).</summary>
    public IGrainFactory Grains => _app!.Services.GetRequiredService<IGrainFactory>();

    /// <summary>A raw gRPC client for sending hand-made (and hostile) messages, with the given bearer token.</summary>
    public RawSigner Raw(string? token) => new(Address, token);

    public MpcSignerClient Client(string user) =>
        new(Address, Token(user), new MpcSignerClientOptions { DeviceProfileStore = DeviceProfiles });

    public async Task DisposeAsync()
    {
        await StopAsync();
        if (_ownsRingPedersen)
        {
            RingPedersen.Dispose();
        }
        foreach (string directory in new[] { DataDirectory, MasterKeyDirectory })
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
