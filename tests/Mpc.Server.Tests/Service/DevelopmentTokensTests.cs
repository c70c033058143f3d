using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using Mpc.Server;

namespace Mpc.Server.Tests.Service;

/// <summary>The embedded mode's token key file: created once, owner-only, and the same key for every process that opens it.</summary>
public sealed class DevelopmentTokensTests : IDisposable
{
    private readonly TempDirectory _dir = new("mpc-dev-tokens-");

    public void Dispose() => _dir.Dispose();

    private static byte[] PublicKey(DevelopmentTokens tokens) =>
        ((ECDsaSecurityKey)tokens.ValidationKey).ECDsa.ExportSubjectPublicKeyInfo();

    private byte[] PublicKeyOnDisk(string directory)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(Path.Combine(directory, DevelopmentTokens.KeyFileName)));
        return key.ExportSubjectPublicKeyInfo();
    }

    [Fact]
    public void The_key_is_created_owner_only_and_read_back_by_a_later_open()
    {
        using DevelopmentTokens created = DevelopmentTokens.Open(_dir.Path, create: true);
        string path = _dir.File(DevelopmentTokens.KeyFileName);

        Assert.Equal([path], Directory.GetFiles(_dir.Path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        using DevelopmentTokens reopened = DevelopmentTokens.Open(_dir.Path, create: false);
        Assert.Equal(PublicKey(created), PublicKey(reopened));
        Assert.Equal(PublicKey(created), PublicKeyOnDisk(_dir.Path));
        // Written without .NET's string export (its text cannot be zeroed), yet exactly the PKCS#8 PEM that export gives.
        using var onDisk = ECDsa.Create();
        onDisk.ImportFromPem(File.ReadAllText(path));
        Assert.Equal(onDisk.ExportPkcs8PrivateKeyPem(), File.ReadAllText(path));
    }

    [Fact]
    public async Task Processes_creating_the_key_at_the_same_moment_all_end_up_with_the_one_on_disk()
    {
        // Two silos starting together: whoever loses the creation must use the winner's key, or tokens one silo
        // mints are refused by the other.
        const int Openers = 4;
        for (int round = 0; round < 10; round++)
        {
            string directory = _dir.Subdirectory($"data-{round}");
            var keys = new byte[Openers][];
            await Simultaneously.RunAsync(Openers, i =>
            {
                using DevelopmentTokens tokens = DevelopmentTokens.Open(directory, create: true);
                keys[i] = PublicKey(tokens);
            });

            byte[] onDisk = PublicKeyOnDisk(directory);
            Assert.All(keys, key => Assert.Equal(onDisk, key));
            Assert.Equal([Path.Combine(directory, DevelopmentTokens.KeyFileName)], Directory.GetFiles(directory));
        }
    }
}
