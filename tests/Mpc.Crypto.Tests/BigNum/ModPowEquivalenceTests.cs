using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;
using NumericsBigInteger = System.Numerics.BigInteger;

namespace Mpc.Crypto.Tests.BigNum;

/// <summary>
/// The OpenSSL and managed backends must be interchangeable: same results, same refusals. BouncyCastle's
/// own <c>ModPow</c> is the oracle, and System.Numerics is a second, independent one for moderate sizes.
/// </summary>
public sealed class ModPowEquivalenceTests
{
    private static readonly IBigNumBackend OpenSsl = TestNumbers.Backend(BigNumBackendKind.OpenSsl);
    private static readonly IBigNumBackend Managed = TestNumbers.Backend(BigNumBackendKind.Managed);

    [Theory]
    [InlineData(256)]
    [InlineData(512)]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(3072)]
    [InlineData(4096)]
    public void Backends_agree_with_each_other_and_the_oracle(int modulusBits)
    {
        var random = new Random(modulusBits);
        BigInteger modulus = TestNumbers.OddModulus(random, modulusBits);
        List<(string Name, BigInteger Value, BigInteger Exponent)> cases =
        [
            ("exponent 0", TestNumbers.BelowModulus(random, modulus), BigInteger.Zero),
            ("exponent 1", TestNumbers.BelowModulus(random, modulus), BigInteger.One),
            ("exponent 2", TestNumbers.BelowModulus(random, modulus), BigInteger.Two),
            ("exponent 65537", TestNumbers.BelowModulus(random, modulus), BigInteger.ValueOf(65537)),
            ("exponent 256-bit", TestNumbers.BelowModulus(random, modulus), TestNumbers.Exactly(random, 256)),
            ("exponent as large as modulus", TestNumbers.BelowModulus(random, modulus), TestNumbers.Exactly(random, modulusBits)),
            ("exponent equal to modulus", TestNumbers.BelowModulus(random, modulus), modulus),
            ("exponent above modulus", TestNumbers.BelowModulus(random, modulus), modulus.Add(TestNumbers.Exactly(random, modulusBits + 17))),
            ("base above modulus", modulus.Add(TestNumbers.BelowModulus(random, modulus)), TestNumbers.Exactly(random, 300)),
            ("base many times the modulus", modulus.ShiftLeft(70).Add(BigInteger.ValueOf(12345)), TestNumbers.Exactly(random, 100)),
            ("base equal to modulus", modulus, TestNumbers.Exactly(random, 64)),
            ("base 0", BigInteger.Zero, TestNumbers.Exactly(random, 200)),
            ("base 0, exponent 0", BigInteger.Zero, BigInteger.Zero),
            ("base 1", BigInteger.One, TestNumbers.Exactly(random, 200)),
            ("base modulus - 1", modulus.Subtract(BigInteger.One), TestNumbers.Exactly(random, 200)),
            ("negative base", TestNumbers.Exactly(random, modulusBits - 3).Negate(), TestNumbers.Exactly(random, 128)),
        ];
        for (int i = 0; i < 4; i++)
        {
            cases.Add(($"random {i}", TestNumbers.BelowModulus(random, modulus), TestNumbers.Below(random, modulusBits)));
        }

        foreach ((string name, BigInteger value, BigInteger exponent) in cases)
        {
            BigInteger expected = value.Mod(modulus).ModPow(exponent, modulus);
            Assert.True(expected.Equals(OpenSsl.ModPow(value, exponent, modulus)), $"openssl differs from the oracle: {name}");
            Assert.True(expected.Equals(Managed.ModPow(value, exponent, modulus)), $"managed differs from the oracle: {name}");
            if (modulusBits <= 2048)
            {
                NumericsBigInteger independent = NumericsBigInteger.ModPow(
                    ToNumerics(value.Mod(modulus)), ToNumerics(exponent), ToNumerics(modulus));
                Assert.True(ToNumerics(expected) == independent, $"the oracles disagree: {name}");
            }
        }
    }

    [Fact]
    public void Edge_values_have_their_mathematical_results()
    {
        BigInteger modulus = BigInteger.ValueOf(1_000_003);
        foreach (IBigNumBackend backend in new[] { OpenSsl, Managed })
        {
            Assert.Equal(BigInteger.One, backend.ModPow(BigInteger.Zero, BigInteger.Zero, modulus));
            Assert.Equal(BigInteger.Zero, backend.ModPow(BigInteger.Zero, BigInteger.Ten, modulus));
            Assert.Equal(BigInteger.Zero, backend.ModPow(modulus, BigInteger.Ten, modulus));
            Assert.Equal(BigInteger.ValueOf(1_000_002), backend.ModPow(BigInteger.One.Negate(), BigInteger.Three, modulus));
            // Fermat: a^(p-1) = 1 mod a prime p.
            Assert.Equal(BigInteger.One, backend.ModPow(BigInteger.ValueOf(2), BigInteger.ValueOf(1_000_002), modulus));
        }
    }

    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl, 256)]
    [InlineData(BigNumBackendKind.OpenSsl, 2048)]
    [InlineData(BigNumBackendKind.Managed, 256)]
    [InlineData(BigNumBackendKind.Managed, 2048)]
    public void ModPowSigned_with_a_negative_exponent_inverts_then_raises(BigNumBackendKind kind, int modulusBits)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        var random = new Random(modulusBits + 1);
        BigInteger modulus = TestNumbers.OddModulus(random, modulusBits);
        for (int i = 0; i < 5; i++)
        {
            BigInteger value = TestNumbers.BelowModulus(random, modulus);
            if (!value.Gcd(modulus).Equals(BigInteger.One))
            {
                continue;
            }
            BigInteger exponent = TestNumbers.Exactly(random, 64 + 100 * i);
            BigInteger signed = backend.ModPowSigned(value, exponent.Negate(), modulus);

            Assert.Equal(backend.ModPow(value.ModInverse(modulus), exponent, modulus), signed);
            Assert.Equal(value.ModPow(exponent.Negate(), modulus), signed);
            Assert.Equal(BigInteger.One, signed.Multiply(value.ModPow(exponent, modulus)).Mod(modulus));
            Assert.Equal(backend.ModPow(value, exponent, modulus), backend.ModPowSigned(value, exponent, modulus));
        }
    }

    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl)]
    [InlineData(BigNumBackendKind.Managed)]
    public void ModPowSigned_refuses_a_non_invertible_base_for_a_negative_exponent(BigNumBackendKind kind)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        BigInteger modulus = BigInteger.ValueOf(3 * 5 * 7);

        MpcProtocolException e = Assert.Throws<MpcProtocolException>(
            () => backend.ModPowSigned(BigInteger.ValueOf(21), BigInteger.ValueOf(-3), modulus));
        Assert.Equal(MpcErrorCode.ProofFailed, e.Code);
    }

    public static TheoryData<BigNumBackendKind, long, long> InvalidArguments()
    {
        var data = new TheoryData<BigNumBackendKind, long, long>();
        foreach (BigNumBackendKind kind in new[] { BigNumBackendKind.OpenSsl, BigNumBackendKind.Managed })
        {
            data.Add(kind, 5, 1_000_000);     // even modulus
            data.Add(kind, 5, 2);             // even modulus
            data.Add(kind, 5, 1);             // modulus one
            data.Add(kind, 5, 0);             // modulus zero
            data.Add(kind, 5, -7);            // negative modulus
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidArguments))]
    public void Invalid_modulus_is_refused_by_both_backends(BigNumBackendKind kind, long exponent, long modulus)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);

        Assert.Throws<ArgumentException>(
            () => backend.ModPow(BigInteger.Three, BigInteger.ValueOf(exponent), BigInteger.ValueOf(modulus)));
    }

    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl)]
    [InlineData(BigNumBackendKind.Managed)]
    public void Negative_exponent_is_refused_by_ModPow(BigNumBackendKind kind)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);

        Assert.Throws<ArgumentException>(
            () => backend.ModPow(BigInteger.Three, BigInteger.One.Negate(), BigInteger.ValueOf(1_000_003)));
    }

    private static NumericsBigInteger ToNumerics(BigInteger value) =>
        new(value.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true);
}
