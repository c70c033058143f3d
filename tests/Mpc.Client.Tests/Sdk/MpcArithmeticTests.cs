using Mpc.Client.DependencyInjection;
using Mpc.Crypto.BigNum;

namespace Mpc.Client.Tests.Sdk;

/// <summary>The SDK's arithmetic choice: each named choice is the engine it names, and the default is OpenSSL where libcrypto loads.</summary>
public sealed class MpcArithmeticTests
{
    [Fact]
    public void Managed_is_named_explicitly_and_says_it_is_variable_time()
    {
        Assert.Equal("managed", MpcArithmetic.Managed.Name);
        Assert.False(MpcArithmetic.Managed.IsConstantTime);
    }

    [Fact]
    public void OpenSsl_is_the_constant_time_engine()
    {
        Assert.Equal("openssl", MpcArithmetic.OpenSsl.Name);
        Assert.True(MpcArithmetic.OpenSsl.IsConstantTime);
    }

    [Fact]
    public void The_default_is_the_process_default_engine()
    {
        Assert.Equal("default", MpcArithmetic.Default.Choice);
        Assert.Equal(BigNumBackends.Default.Name, MpcArithmetic.Default.Name);
        Assert.Same(BigNumBackends.Default, MpcArithmetic.Default.Backend);
        Assert.Same(MpcArithmetic.Default, new MpcSignerClientOptions().Arithmetic);
    }

    [Theory]
    [InlineData("openssl", "openssl")]
    [InlineData("Managed", "managed")]
    [InlineData("default", "default")]
    public void The_configuration_names_each_choice(string configured, string choice) =>
        Assert.Equal(choice, MpcArithmetic.FromName(configured)!.Choice);

    [Fact]
    public void An_unknown_arithmetic_in_configuration_fails_validation_naming_the_setting_and_the_choices()
    {
        var options = new MpcSignerOptions { Address = new Uri("https://signer.example"), Token = "t", Arithmetic = "fast" };

        var result = new MpcSignerOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("MpcSigner:Arithmetic must be 'default', 'openssl' or 'managed', not 'fast'", result.FailureMessage);
        Assert.Null(MpcArithmetic.FromName("fast"));
    }
}
