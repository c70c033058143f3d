using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.BigNum;

public sealed class ModMultiplyTests
{
    [Theory]
    [InlineData(256)]
    [InlineData(2048)]
    [InlineData(4096)]
    public void OpenSSL_and_managed_agree(int bits)
    {
        IBigNumBackend openssl = BigNumBackends.Create(BigNumBackendKind.OpenSsl);
        IBigNumBackend managed = BigNumBackends.Create(BigNumBackendKind.Managed);
        var random = new Random(bits);
        for (int i = 0; i < 20; i++)
        {
            BigInteger modulus = Random(random, bits).SetBit(bits - 1).SetBit(0);
            BigInteger a = Random(random, bits).Mod(modulus);
            BigInteger b = i == 0 ? BigInteger.Zero : Random(random, bits).Mod(modulus);
            BigInteger expected = a.Multiply(b).Mod(modulus);
            Assert.Equal(expected, openssl.ModMultiply(a, b, modulus));
            Assert.Equal(expected, managed.ModMultiply(a, b, modulus));
        }
    }

    [Fact]
    public void OpenSSL_refuses_negative_operands() =>
        Assert.Throws<ArgumentException>(() => BigNumBackends.Create(BigNumBackendKind.OpenSsl).ModMultiply(BigInteger.One.Negate(), BigInteger.Two, BigInteger.ValueOf(7)));

    /// <summary>ModMultiply on every backend: products of any non-negative size, reduction with factor 1, even moduli; refuses negatives.</summary>
    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl)]
    [InlineData(BigNumBackendKind.Managed)]
    public void ModMultiply_reduces_any_non_negative_product(BigNumBackendKind kind)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        var random = new Random(97 + (int)kind);
        BigInteger odd = TestNumbers.OddModulus(random, 2048);
        foreach (BigInteger modulus in new[] { odd, odd.Subtract(BigInteger.One), BigInteger.One, BigInteger.ValueOf(12) })
        {
            BigInteger a = TestNumbers.Exactly(random, 4096), b = TestNumbers.Exactly(random, 1500);
            Assert.Equal(a.Multiply(b).Mod(modulus), backend.ModMultiply(a, b, modulus));
            Assert.Equal(a.Mod(modulus), backend.ModMultiply(a, BigInteger.One, modulus));
            Assert.Equal(BigInteger.Zero, backend.ModMultiply(BigInteger.Zero, b, modulus));
        }
        Assert.Throws<ArgumentException>(() => backend.ModMultiply(BigInteger.One.Negate(), BigInteger.Two, odd));
        Assert.Throws<ArgumentException>(() => backend.ModMultiply(BigInteger.Two, BigInteger.Two, BigInteger.Zero));
    }

    /// <summary>The coprimality check the proofs use for public values, against BouncyCastle's gcd.</summary>
    [Fact]
    public void AreCoprime_agrees_with_the_gcd()
    {
        var random = new Random(5);
        BigInteger n = TestNumbers.OddModulus(random, 2048);
        BigInteger factor = BigInteger.ValueOf(1_000_003);
        BigInteger withFactor = n.Multiply(factor);
        for (int i = 0; i < 20; i++)
        {
            BigInteger value = TestNumbers.BelowModulus(random, n);
            Assert.Equal(value.Gcd(n).Equals(BigInteger.One), NumericsArithmetic.AreCoprime(value, n));
            Assert.False(NumericsArithmetic.AreCoprime(value.Multiply(factor), withFactor));
        }
        Assert.True(NumericsArithmetic.AreCoprime(BigInteger.One, n));
        Assert.False(NumericsArithmetic.AreCoprime(BigInteger.Zero, n));
        Assert.False(NumericsArithmetic.AreCoprime(n, n));
        Assert.Throws<ArgumentException>(() => NumericsArithmetic.AreCoprime(BigInteger.One.Negate(), n));
    }

    private static BigInteger Random(Random random, int bits)
    {
        byte[] bytes = new byte[bits / 8];
        random.NextBytes(bytes);
        return new BigInteger(1, bytes);
    }
}
