using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Sealing;
using Mpc.Protocol.Keys;
using Mpc.Server;


namespace Mpc.Server.Tests.Hsm;

/// <summary>The server with its master key in the token: keys made, used across a restart, and a data directory that decrypts nothing.</summary>
[Collection("softhsm")]
public sealed class HsmServerTests(SoftHsmFixture hsm) : IDisposable
{
    private const string User = "hsm-user";

    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    private string DataDirectory => _root.File("data");

    private string PinFile()
    {
        string path = _root.File("pin");
        File.WriteAllText(path, SoftHsmFixture.Pin + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return path;
    }

    private MpcServerOptions Options(string keyLabel, string? pinFile) => new()
    {
        DataDirectory = DataDirectory,
        Urls = "http://127.0.0.1:0",
        Quiet = true,
        KeyEncryption = new KeyEncryptionOptions
        {
            Provider = KeyEncryptionOptions.Pkcs11Provider,
            Pkcs11 = new Pkcs11ServerOptions
            {
                LibraryPath = hsm.LibraryPath,
                TokenLabel = SoftHsmFixture.Token,
                KeyLabel = keyLabel,
                PinFile = pinFile,
                PinEnvironmentVariable = "MPC_TEST_PKCS11_PIN_" + Guid.NewGuid().ToString("N"),
                CreateKeyIfMissing = true,
            },
        },
    };

    private static async Task<(WebApplication App, Uri Address)> StartAsync(MpcServerOptions options)
    {
        WebApplication app = MpcServerHost.Build(options);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }

    private string Token()
    {
        using DevelopmentTokens tokens = DevelopmentTokens.Open(DataDirectory, create: false);
        return tokens.Mint(User, TimeSpan.FromHours(1));
    }

    [Fact]
    public async Task Keys_sealed_by_the_token_sign_across_a_restart_and_the_data_directory_alone_decrypts_nothing()
    {
        string keyLabel = "server-" + Guid.NewGuid().ToString("N")[..8];
        MpcServerOptions options = Options(keyLabel, PinFile());
        using var ringPedersen = RingPedersenSecret.Generate(BigNumBackends.Default);
        var clientOptions = new MpcSignerClientOptions { DeviceProfileStore = Mpc.Client.DeviceProfiles.InMemoryDeviceProfileStore.Around(ringPedersen) };
        byte[] document = "signed with the master key in the HSM"u8.ToArray();

        byte[] exported;
        byte[] spki;
        string keyId;
        string kekId;
        var (app, address) = await StartAsync(options);
        try
        {
            kekId = app.Services.GetRequiredService<IKeyEncryptionKeyProvider>().KeyId;
            Assert.StartsWith($"pkcs11:{SoftHsmFixture.Token}/{keyLabel}/", kekId);
            using var client = new MpcSignerClient(address, Token(), clientOptions);
            using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
            exported = key.Share.ExportSecret();
            spki = key.SubjectPublicKeyInfo;
            keyId = key.KeyId;
            MpcSignature signature = await client.SignDataAsync(key, document);
            Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, spki, MpcSignerClient.HashFor(CurveKind.P256, document), signature));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        // Restart: the share comes back from storage, unsealed through the token.
        (app, address) = await StartAsync(options);
        try
        {
            Assert.Equal(kekId, app.Services.GetRequiredService<IKeyEncryptionKeyProvider>().KeyId);
            using var client = new MpcSignerClient(address, Token(), clientOptions);
            using MpcKey key = client.OpenKey(ClientKeyShare.ImportSecret(exported, BigNumBackends.Default));
            MpcSignature signature = await client.SignDataAsync(key, document);
            Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, spki, MpcSignerClient.HashFor(CurveKind.P256, document), signature));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        // A copy of the data directory: no master key file in it, nor beside it, and nothing on disk opens the share.
        string copy = _root.File("stolen");
        CopyDirectory(DataDirectory, copy);
        Assert.Empty(Directory.GetFiles(_root.Path, FileKeyEncryptionKeyProvider.FileName, SearchOption.AllDirectories));
        Assert.False(Directory.Exists(options.ResolvedMasterKeyDirectory), "the pkcs11 server must not create a master key directory");

        StoredKeys storedKeys = await StoredKeys.ReadAsync(copy, User);
        StoredDevice stored = storedKeys.Keys.Keys[keyId].Devices["primary"];
        Assert.Equal(kekId, ShareSealer.KekIdOf(stored.SealedShare));
        var context = new SealContext(User, keyId, stored.SealPurpose);

        using (var thief = new TempDirectory())
        using (var fileKey = new FileKeyEncryptionKeyProvider(thief.Path))
        {
            await Assert.ThrowsAsync<SealedDataException>(async () => await new ShareSealer(fileKey).OpenAsync(stored.SealedShare, context, CancellationToken.None));
        }
        using (var otherToken = new Pkcs11KeyEncryptionKeyProvider(hsm.Options(SoftHsmFixture.SecondToken, keyLabel)))
        {
            await Assert.ThrowsAsync<SealedDataException>(async () => await new ShareSealer(otherToken).OpenAsync(stored.SealedShare, context, CancellationToken.None));
        }

        // With the token, the copy opens: the token is the only thing missing.
        using (var token = new Pkcs11KeyEncryptionKeyProvider(hsm.Options(keyLabel: keyLabel, create: false)))
        {
            byte[] secret = await new ShareSealer(token).OpenAsync(stored.SealedShare, context, CancellationToken.None);
            using ServerKeyShare share = ServerKeyShare.ImportSecret(secret, BigNumBackends.Default);
            Assert.Equal(CurveKind.P256, share.Curve);
        }
    }

    [Fact]
    public void Pkcs11_without_a_pin_fails_at_start_up_with_a_clear_message()
    {
        MpcServerOptions options = Options("never-used", pinFile: null);
        var ex = Assert.Throws<InvalidOperationException>(() => MpcServerHost.Build(options));
        Assert.Contains("PIN", ex.Message);
        Assert.Contains("--pkcs11-pin-file", ex.Message);
        Assert.Contains(options.KeyEncryption.Pkcs11.PinEnvironmentVariable, ex.Message);
    }

    [Fact]
    public void Pin_from_the_environment_and_a_wrong_pin_fails_at_start_up()
    {
        MpcServerOptions options = Options("never-used-" + Guid.NewGuid().ToString("N")[..8], pinFile: null);
        options.KeyEncryption.Pkcs11.TokenLabel = SoftHsmFixture.PinTestToken;
        string variable = options.KeyEncryption.Pkcs11.PinEnvironmentVariable;
        Environment.SetEnvironmentVariable(variable, "0000");
        try
        {
            var ex = Assert.Throws<KeyEncryptionKeyException>(() => MpcServerHost.Build(options));
            Assert.Contains("PIN is incorrect", ex.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void Group_writable_pin_file_is_refused()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string pinFile = PinFile();
        File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        var ex = Assert.Throws<InvalidOperationException>(() => MpcServerHost.Build(Options("never-used", pinFile)));
        Assert.Contains("chmod 600", ex.Message);
    }

    [Fact]
    public void Unknown_provider_is_refused()
    {
        MpcServerOptions options = Options("never-used", null);
        options.KeyEncryption.Provider = "kms";
        var ex = Assert.Throws<ServerStartupException>(() => MpcServerHost.Build(options));
        Assert.Contains("'kms'", ex.Message);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }
}
