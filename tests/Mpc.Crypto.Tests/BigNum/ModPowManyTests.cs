using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.BigNum;

/// <summary>The batch call against one modulus gives exactly what ModPow gives call by call, and refuses what ModPow refuses.</summary>
public sealed class ModPowManyTests
{
    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl, 256)]
    [InlineData(BigNumBackendKind.OpenSsl, 1024)]
    [InlineData(BigNumBackendKind.OpenSsl, 2048)]
    [InlineData(BigNumBackendKind.Managed, 256)]
    [InlineData(BigNumBackendKind.Managed, 2048)]
    public void Batch_equals_ModPow_call_by_call_on_random_inputs(BigNumBackendKind kind, int modulusBits)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        var random = new Random(modulusBits * 7 + (int)kind);
        BigInteger modulus = TestNumbers.OddModulus(random, modulusBits);
        var values = new List<BigInteger>
        {
            BigInteger.Zero, BigInteger.One, modulus, modulus.ShiftLeft(40).Add(BigInteger.Three),
            TestNumbers.Exactly(random, modulusBits - 3).Negate(),
        };
        var exponents = new List<BigInteger> { BigInteger.Zero, TestNumbers.Exactly(random, 100), BigInteger.Ten, TestNumbers.Exactly(random, 64), TestNumbers.Exactly(random, 128) };
        for (int i = 0; i < 20; i++)
        {
            values.Add(TestNumbers.BelowModulus(random, modulus));
            exponents.Add(TestNumbers.Below(random, i % 2 == 0 ? 128 : modulusBits));
        }

        BigInteger[] batch = backend.ModPowMany(values, exponents, modulus);

        Assert.Equal(values.Count, batch.Length);
        for (int i = 0; i < values.Count; i++)
        {
            Assert.Equal(backend.ModPow(values[i], exponents[i], modulus), batch[i]);
            Assert.Equal(values[i].Mod(modulus).ModPow(exponents[i], modulus), batch[i]);
        }
    }

    /// <summary>
    /// OpenSSL takes the side-by-side (AVX-512 IFMA) path for a pair only with a 1024-bit modulus and full-length bases
    /// and exponents, as in Πmod's batches: such pairs, an odd last power, and bases at or above the modulus (reduced
    /// before the pair) all agree with BouncyCastle.
    /// </summary>
    [Theory]
    [InlineData(1024, 31)]
    [InlineData(1024, 2)]
    [InlineData(1536, 9)]
    public void Pairs_of_full_length_powers_agree_with_BouncyCastle(int modulusBits, int count)
    {
        IBigNumBackend backend = TestNumbers.Backend(BigNumBackendKind.OpenSsl);
        var random = new Random(modulusBits + count);
        BigInteger modulus = TestNumbers.OddModulus(random, modulusBits);
        var values = new List<BigInteger>();
        var exponents = new List<BigInteger>();
        for (int i = 0; i < count; i++)
        {
            // Every fifth base is at or above the modulus but still modulusBits long.
            BigInteger below = TestNumbers.BelowModulus(random, modulus);
            values.Add(i % 5 == 4 ? modulus.Add(below).Mod(BigInteger.One.ShiftLeft(modulusBits)).Max(modulus) : below);
            exponents.Add(TestNumbers.Exactly(random, modulusBits));
        }

        BigInteger[] batch = backend.ModPowMany(values, exponents, modulus);

        for (int i = 0; i < count; i++)
        {
            Assert.Equal(values[i].Mod(modulus).ModPow(exponents[i], modulus), batch[i]);
        }
    }

    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl)]
    [InlineData(BigNumBackendKind.Managed)]
    public void An_empty_batch_is_empty(BigNumBackendKind kind) =>
        Assert.Empty(TestNumbers.Backend(kind).ModPowMany([], [], BigInteger.ValueOf(1_000_003)));

    public static TheoryData<BigNumBackendKind, long> BadModuli()
    {
        var data = new TheoryData<BigNumBackendKind, long>();
        foreach (BigNumBackendKind kind in new[] { BigNumBackendKind.OpenSsl, BigNumBackendKind.Managed })
        {
            data.Add(kind, 1_000_000);
            data.Add(kind, 2);
            data.Add(kind, 1);
            data.Add(kind, 0);
            data.Add(kind, -7);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BadModuli))]
    public void A_bad_modulus_is_refused_like_ModPow(BigNumBackendKind kind, long modulus)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        BigInteger m = BigInteger.ValueOf(modulus);
        Assert.Throws<ArgumentException>(() => backend.ModPow(BigInteger.Three, BigInteger.ValueOf(5), m));
        Assert.Throws<ArgumentException>(() => backend.ModPowMany([BigInteger.Three], [BigInteger.ValueOf(5)], m));
        Assert.Throws<ArgumentException>(() => backend.ModPowMany([], [], m));
    }

    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl)]
    [InlineData(BigNumBackendKind.Managed)]
    public void A_negative_exponent_or_a_missing_exponent_is_refused(BigNumBackendKind kind)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        BigInteger m = BigInteger.ValueOf(1_000_003);
        Assert.Throws<ArgumentException>(() => backend.ModPowMany([BigInteger.Two, BigInteger.Three], [BigInteger.One, BigInteger.One.Negate()], m));
        Assert.Throws<ArgumentException>(() => backend.ModPowMany([BigInteger.Two, BigInteger.Three], [BigInteger.One], m));
    }

    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl, 256)]
    [InlineData(BigNumBackendKind.OpenSsl, 2048)]
    [InlineData(BigNumBackendKind.OpenSsl, 3072)]
    [InlineData(BigNumBackendKind.Managed, 512)]
    public void Fixed_base_powers_equal_ModPow_call_by_call(BigNumBackendKind kind, int modulusBits)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        var random = new Random(modulusBits * 11 + (int)kind);
        BigInteger modulus = TestNumbers.OddModulus(random, modulusBits);
        foreach (BigInteger value in new[] { TestNumbers.BelowModulus(random, modulus), BigInteger.Zero, BigInteger.One, modulus.Add(BigInteger.Two), BigInteger.Three.Negate() })
        {
            var exponents = new List<BigInteger> { BigInteger.Zero, BigInteger.One, BigInteger.ValueOf(63), BigInteger.ValueOf(64), modulus, TestNumbers.Exactly(random, modulusBits + 70) };
            for (int i = 0; i < 12; i++)
            {
                exponents.Add(TestNumbers.Below(random, 1 + random.Next(modulusBits)));
            }

            BigInteger[] powers = backend.PublicFixedBasePowMany(value, exponents, modulus);

            Assert.Equal(exponents.Count, powers.Length);
            for (int i = 0; i < exponents.Count; i++)
            {
                Assert.Equal(value.Mod(modulus).ModPow(exponents[i], modulus), powers[i]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(BadModuli))]
    public void Fixed_base_powers_refuse_a_bad_modulus_like_ModPow(BigNumBackendKind kind, long modulus)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        BigInteger m = BigInteger.ValueOf(modulus);
        Assert.Throws<ArgumentException>(() => backend.PublicFixedBasePowMany(BigInteger.Three, [BigInteger.ValueOf(5)], m));
        Assert.Throws<ArgumentException>(() => backend.PublicFixedBasePowMany(BigInteger.Three, [], m));
        Assert.Throws<ArgumentException>(() => backend.PublicFixedBasePowMany(BigInteger.Three, [BigInteger.One.Negate()], BigInteger.ValueOf(1_000_003)));
    }

    /// <summary>
    /// Pippenger's bucket method (OpenSSL) and the default (separate powers) give the product of the definition: the Πmod
    /// batch's shape (128 bases, 128-bit weights), few bases, zero and one-bit exponents, bases at or above the modulus,
    /// zero and negative bases, exponents longer than the modulus, and only zero exponents.
    /// </summary>
    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl, 2048, 128, 128)]
    [InlineData(BigNumBackendKind.OpenSsl, 1024, 3, 1100)]
    [InlineData(BigNumBackendKind.OpenSsl, 256, 1, 64)]
    [InlineData(BigNumBackendKind.OpenSsl, 256, 40, 1)]
    [InlineData(BigNumBackendKind.Managed, 512, 20, 128)]
    public void Product_of_powers_equals_the_definition(BigNumBackendKind kind, int modulusBits, int count, int exponentBits)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        var random = new Random(modulusBits * 13 + count + exponentBits);
        BigInteger modulus = TestNumbers.OddModulus(random, modulusBits);
        var values = new List<BigInteger>();
        var exponents = new List<BigInteger>();
        for (int i = 0; i < count; i++)
        {
            values.Add((i % 9) switch
            {
                4 => modulus.Add(TestNumbers.BelowModulus(random, modulus)),
                7 => TestNumbers.BelowModulus(random, modulus).Negate(),
                8 => BigInteger.Zero,
                _ => TestNumbers.BelowModulus(random, modulus),
            });
            exponents.Add((i % 11) switch
            {
                3 => BigInteger.Zero,
                5 => BigInteger.One,
                _ => TestNumbers.Below(random, exponentBits),
            });
        }
        BigInteger expected = BigInteger.One;
        for (int i = 0; i < count; i++)
        {
            expected = expected.Multiply(values[i].Mod(modulus).ModPow(exponents[i], modulus)).Mod(modulus);
        }

        Assert.Equal(expected, backend.PublicProductOfPowers(values, exponents, modulus));
        Assert.Equal(BigInteger.One, backend.PublicProductOfPowers(values, [.. exponents.Select(_ => BigInteger.Zero)], modulus));
        Assert.Equal(BigInteger.One, backend.PublicProductOfPowers([], [], modulus));
    }

    [Theory]
    [MemberData(nameof(BadModuli))]
    public void Product_of_powers_refuses_what_ModPowMany_refuses(BigNumBackendKind kind, long modulus)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        Assert.Throws<ArgumentException>(() => backend.PublicProductOfPowers([BigInteger.Three], [BigInteger.ValueOf(5)], BigInteger.ValueOf(modulus)));
        BigInteger m = BigInteger.ValueOf(1_000_003);
        Assert.Throws<ArgumentException>(() => backend.PublicProductOfPowers([BigInteger.Two], [BigInteger.One.Negate()], m));
        Assert.Throws<ArgumentException>(() => backend.PublicProductOfPowers([BigInteger.Two, BigInteger.Three], [BigInteger.One], m));
    }
}
