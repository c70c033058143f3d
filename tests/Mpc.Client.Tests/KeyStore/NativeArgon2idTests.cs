using System.Text;
using Mpc.Client.KeyStore;

namespace Mpc.Client.Tests.KeyStore;

/// <summary>
/// libargon2 (the reference implementation) and BouncyCastle compute the same Argon2id: every key file, profile and
/// backup sealed by one opens with the other, so a machine without the library reads what one with it wrote.
/// </summary>
public sealed class NativeArgon2idTests
{
    [Fact]
    public void The_library_loads_on_Linux_where_the_build_installs_it()
    {
        // build.sh deps and .ci/run install libargon2-1; without it every sealed command would pay ~6x the time.
        Assert.True(!OperatingSystem.IsLinux() || NativeArgon2id.IsAvailable, "libargon2.so.1 did not load");
    }

    [Theory]
    [InlineData(1, 8, 1, 8, "")]
    [InlineData(2, 1024, 2, 16, "correct horse battery staple")]
    [InlineData(3, 4096, 4, 64, "pässwörd ✓ with a long salt")]
    [InlineData(3, 64 * 1024, 4, 16, "RFC 9106 second option")]
    public void Native_and_managed_derive_the_same_bytes(int iterations, int memoryKiB, int parallelism, int saltLength, string passphrase)
    {
        Assert.True(NativeArgon2id.IsAvailable || !OperatingSystem.IsLinux());
        Argon2idParameters kdf = Argon2idParameters.Unchecked(iterations, memoryKiB, parallelism, saltLength);
        byte[] password = Encoding.UTF8.GetBytes(passphrase);
        byte[] salt = [.. Enumerable.Range(0, saltLength).Select(i => unchecked((byte)(i * 37 + 11)))];
        byte[] managed = new byte[32];
        byte[] chosen = new byte[32];

        kdf.DeriveManaged(password, salt, managed);
        kdf.Derive(password, salt, chosen);

        Assert.Equal(Convert.ToHexString(managed), Convert.ToHexString(chosen));
        byte[] otherSalt = (byte[])salt.Clone();
        otherSalt[0] ^= 1;
        kdf.Derive(password, otherSalt, chosen);
        Assert.NotEqual(Convert.ToHexString(managed), Convert.ToHexString(chosen));
    }

    /// <summary>A published Argon2id value (the argon2 CLI of the reference implementation): neither path is only self-consistent.</summary>
    [Fact]
    public void Both_paths_match_the_reference_implementations_output()
    {
        Argon2idParameters kdf = Argon2idParameters.Unchecked(2, 65536, 1, 8);
        byte[] output = new byte[32];
        kdf.DeriveManaged("password"u8.ToArray(), "somesalt"u8.ToArray(), output);
        Assert.Equal("09316115D5CF24ED5A15A31A3BA326E5CF32EDC24702987C02B6566F61913CF7", Convert.ToHexString(output));
        kdf.Derive("password"u8.ToArray(), "somesalt"u8.ToArray(), output);
        Assert.Equal("09316115D5CF24ED5A15A31A3BA326E5CF32EDC24702987C02B6566F61913CF7", Convert.ToHexString(output));
    }
}
