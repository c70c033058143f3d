using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.BigNum;

/// <summary>
/// Tests that change <c>MPC_BIGNUM_BACKEND</c>. The collection runs alone (no parallel test can read a
/// half-set variable), and the process-wide default is resolved before any change so it is never
/// initialised from a value a test put there.
/// </summary>
[CollectionDefinition("environment", DisableParallelization = true)]
public sealed class EnvironmentCollection
{
}

[Collection("environment")]
public sealed class BigNumBackendsTests
{
    public BigNumBackendsTests() => _ = BigNumBackends.Default;

    [Theory]
    [InlineData(null, BigNumBackendKind.Auto)]
    [InlineData("", BigNumBackendKind.Auto)]
    [InlineData("auto", BigNumBackendKind.Auto)]
    [InlineData("AUTO", BigNumBackendKind.Auto)]
    [InlineData("openssl", BigNumBackendKind.OpenSsl)]
    [InlineData(" OpenSSL ", BigNumBackendKind.OpenSsl)]
    [InlineData("managed", BigNumBackendKind.Managed)]
    [InlineData("Managed\n", BigNumBackendKind.Managed)]
    public void FromEnvironment_parses_the_variable(string? value, BigNumBackendKind expected)
    {
        BigNumBackendKind actual = WithVariable(value, BigNumBackends.FromEnvironment);

        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("gmp")]
    [InlineData("open ssl")]
    [InlineData("1")]
    public void FromEnvironment_refuses_unknown_values(string value)
    {
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(
            () => WithVariable(value, BigNumBackends.FromEnvironment));
        Assert.Contains(BigNumBackends.EnvironmentVariable, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_follows_the_environment_of_this_process()
    {
        // Run the suite with MPC_BIGNUM_BACKEND=managed and this asserts the managed backend was used.
        string expected = BigNumBackends.FromEnvironment() == BigNumBackendKind.Managed ? "managed" : "openssl";

        Assert.Equal(expected, BigNumBackends.Default.Name);
        Assert.Same(BigNumBackends.Default, BigNumBackends.Default);
    }

    [Fact]
    public void Create_gives_working_backends_with_their_names()
    {
        IBigNumBackend openSsl = BigNumBackends.Create(BigNumBackendKind.OpenSsl);
        IBigNumBackend managed = BigNumBackends.Create(BigNumBackendKind.Managed);
        IBigNumBackend auto = BigNumBackends.Create(BigNumBackendKind.Auto);

        Assert.IsType<OpenSslBigNumBackend>(openSsl);
        Assert.Equal("openssl", openSsl.Name);
        Assert.IsType<ManagedBigNumBackend>(managed);
        Assert.Equal("managed", managed.Name);
        Assert.Equal("openssl", auto.Name); // libcrypto.so.3 is installed on the test machines
        foreach (IBigNumBackend backend in new[] { openSsl, managed, auto })
        {
            Assert.Equal(BigInteger.ValueOf(445), backend.ModPow(BigInteger.ValueOf(4), BigInteger.ValueOf(13), BigInteger.ValueOf(497)));
        }
    }

    private static T WithVariable<T>(string? value, Func<T> action)
    {
        // Read here, not in a static field: a beforefieldinit static may first be read after the change.
        string? original = Environment.GetEnvironmentVariable(BigNumBackends.EnvironmentVariable);
        Environment.SetEnvironmentVariable(BigNumBackends.EnvironmentVariable, value);
        try
        {
            return action();
        }
        finally
        {
            Environment.SetEnvironmentVariable(BigNumBackends.EnvironmentVariable, original);
        }
    }
}
