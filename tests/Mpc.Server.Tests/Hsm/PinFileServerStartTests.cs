using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Grains.Sealing;
using Mpc.Server;

namespace Mpc.Server.Tests.Hsm;

/// <summary>The server with its PKCS#11 PIN mounted as Kubernetes mounts a Secret (mode 0440, through symlinks).</summary>
[Collection("softhsm")]
public sealed class PinFileServerStartTests(SoftHsmFixture hsm) : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    private MpcServerOptions Options(string pinFile) => new()
    {
        DataDirectory = _root.File("data"),
        Urls = "http://127.0.0.1:0",
        Quiet = true,
        KeyEncryption = new KeyEncryptionOptions
        {
            Provider = KeyEncryptionOptions.Pkcs11Provider,
            Pkcs11 = new Pkcs11ServerOptions
            {
                LibraryPath = hsm.LibraryPath,
                TokenLabel = SoftHsmFixture.Token,
                KeyLabel = "pin-mount-" + Guid.NewGuid().ToString("N")[..8],
                PinFile = pinFile,
                PinEnvironmentVariable = "MPC_TEST_PKCS11_PIN_" + Guid.NewGuid().ToString("N"),
                CreateKeyIfMissing = true,
            },
        },
    };

    [Fact]
    public async Task Server_starts_with_a_0440_pin_file_behind_the_secret_symlinks()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string secrets = Directory.CreateDirectory(_root.File("secrets")).FullName;
        string pinFile = PinFileAccessTests.KubernetesStyleSecret(secrets, SoftHsmFixture.Pin + "\n",
            UnixFileMode.UserRead | UnixFileMode.GroupRead);

        WebApplication app = MpcServerHost.Build(Options(pinFile));
        try
        {
            await app.StartAsync();
            // The PIN logged in: the master key was found or made in the token.
            string kekId = app.Services.GetRequiredService<IKeyEncryptionKeyProvider>().KeyId;
            Assert.StartsWith($"pkcs11:{SoftHsmFixture.Token}/", kekId);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public void Server_refuses_a_0444_pin_file_behind_the_secret_symlinks()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string secrets = Directory.CreateDirectory(_root.File("secrets")).FullName;
        string pinFile = PinFileAccessTests.KubernetesStyleSecret(secrets, SoftHsmFixture.Pin + "\n",
            UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var ex = Assert.Throws<InvalidOperationException>(() => MpcServerHost.Build(Options(pinFile)));
        Assert.Contains("grants access to others", ex.Message);
    }
}
