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

    private static BigInteger Random(Random random, int bits)
    {
        byte[] bytes = new byte[bits / 8];
        random.NextBytes(bytes);
        return new BigInteger(1, bytes);
    }
}
