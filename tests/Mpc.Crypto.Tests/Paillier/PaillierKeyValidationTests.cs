using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Paillier;

[Collection("paillier key")]
public sealed class PaillierKeyValidationTests(PaillierKeyFixture keys)
{
    private readonly PaillierPrivateKey _key = keys.Default;

    public static TheoryData<string> RefusedCiphertexts => ["0", "N²", "N²+1", "p", "3p", "q", "N", "-1", "-(N²-1)"];

    [Theory]
    [MemberData(nameof(RefusedCiphertexts))]
    public void RequireCiphertext_and_Decrypt_refuse_values_outside_the_unit_group(string name)
    {
        BigInteger n = _key.PublicKey.N;
        BigInteger nSquared = _key.PublicKey.NSquared;
        BigInteger value = name switch
        {
            "0" => BigInteger.Zero,
            "N²" => nSquared,
            "N²+1" => nSquared.Add(BigInteger.One),
            "p" => _key.P,
            "3p" => _key.P.Multiply(BigInteger.Three),
            "q" => _key.Q,
            "N" => n,
            "-1" => BigInteger.One.Negate(),
            "-(N²-1)" => nSquared.Subtract(BigInteger.One).Negate(),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        MpcProtocolException require = Assert.Throws<MpcProtocolException>(() => _key.PublicKey.RequireCiphertext(value, "c"));
        MpcProtocolException decrypt = Assert.Throws<MpcProtocolException>(() => _key.Decrypt(value));
        Assert.Equal(MpcErrorCode.InvalidCiphertext, require.Code);
        Assert.Equal(MpcErrorCode.InvalidCiphertext, decrypt.Code);
    }

    [Fact]
    public void RequireCiphertext_accepts_the_unit_group_boundaries()
    {
        _key.PublicKey.RequireCiphertext(BigInteger.One, "c");
        _key.PublicKey.RequireCiphertext(_key.PublicKey.NSquared.Subtract(BigInteger.One), "c");
        _key.PublicKey.RequireCiphertext(_key.PublicKey.Encrypt(BigInteger.Ten), "c");
    }

    [Fact]
    public void Generated_modulus_is_a_2048_bit_Paillier_Blum_modulus()
    {
        BigInteger p = _key.P;
        BigInteger q = _key.Q;

        Assert.Equal(2048, _key.PublicKey.BitLength);
        Assert.Equal(_key.PublicKey.N, p.Multiply(q));
        Assert.Equal(3, p.Mod(BigInteger.Four).IntValue);
        Assert.Equal(3, q.Mod(BigInteger.Four).IntValue);
        Assert.Equal(1024, p.BitLength);
        Assert.Equal(1024, q.BitLength);
        Assert.True(p.Subtract(q).Abs().BitLength > 1024 - 100, "p and q must not be close");
        Assert.Equal(p.Subtract(BigInteger.One).Multiply(q.Subtract(BigInteger.One)), _key.Phi);
    }

    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl, 2048)]
    [InlineData(BigNumBackendKind.OpenSsl, 3072)]
    [InlineData(BigNumBackendKind.Managed, 2048)]
    public void Generate_gives_an_exact_size_Blum_modulus_on_each_backend(BigNumBackendKind kind, int bits)
    {
        using PaillierPrivateKey key = PaillierPrivateKey.Generate(TestNumbers.Backend(kind), bits);

        Assert.Equal(bits, key.PublicKey.BitLength);
        Assert.Equal(key.PublicKey.N, key.P.Multiply(key.Q));
        Assert.Equal(3, key.P.Mod(BigInteger.Four).IntValue);
        Assert.Equal(3, key.Q.Mod(BigInteger.Four).IntValue);
        Assert.True(TestNumbers.Backend(BigNumBackendKind.OpenSsl).IsProbablePrime(key.P));
        Assert.True(TestNumbers.Backend(BigNumBackendKind.OpenSsl).IsProbablePrime(key.Q));
        Assert.Same(TestNumbers.Backend(kind), key.PublicKey.Backend);
    }

    [Theory]
    [InlineData(1024, MpcErrorCode.PaillierModulusTooSmall)]
    [InlineData(2046, MpcErrorCode.PaillierModulusTooSmall)]
    [InlineData(2049, MpcErrorCode.InvalidPaillierModulus)]
    [InlineData(4098, MpcErrorCode.InvalidPaillierModulus)]
    public void Generate_refuses_sizes_below_the_minimum_odd_or_too_large(int bits, MpcErrorCode expected)
    {
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(
            () => PaillierPrivateKey.Generate(TestNumbers.Backend(BigNumBackendKind.OpenSsl), bits));

        Assert.Equal(expected, e.Code);
    }

    [Fact]
    public void Public_key_refuses_a_1024_bit_modulus_as_too_small()
    {
        IBigNumBackend backend = TestNumbers.Backend(BigNumBackendKind.OpenSsl);
        BigInteger n1024 = TestNumbers.OddModulus(new Random(5), 1024);
        BigInteger n2047 = TestNumbers.OddModulus(new Random(6), 2047);

        Assert.Equal(MpcErrorCode.PaillierModulusTooSmall,
            Assert.Throws<MpcProtocolException>(() => new PaillierPublicKey(n1024, backend)).Code);
        Assert.Equal(MpcErrorCode.PaillierModulusTooSmall,
            Assert.Throws<MpcProtocolException>(() => new PaillierPublicKey(n2047, backend)).Code);
    }

    [Fact]
    public void Public_key_refuses_even_non_positive_and_oversized_moduli()
    {
        IBigNumBackend backend = TestNumbers.Backend(BigNumBackendKind.OpenSsl);
        BigInteger even = _key.PublicKey.N.Add(BigInteger.One);
        BigInteger oversized = TestNumbers.OddModulus(new Random(7), 4097);

        foreach (BigInteger n in new[] { even, BigInteger.Zero, _key.PublicKey.N.Negate(), oversized })
        {
            MpcProtocolException e = Assert.Throws<MpcProtocolException>(() => new PaillierPublicKey(n, backend));
            Assert.Equal(MpcErrorCode.InvalidPaillierModulus, e.Code);
        }
    }

    [Fact]
    public void Public_key_accepts_the_size_bounds()
    {
        IBigNumBackend backend = TestNumbers.Backend(BigNumBackendKind.OpenSsl);

        Assert.Equal(2048, new PaillierPublicKey(TestNumbers.OddModulus(new Random(8), 2048), backend).BitLength);
        Assert.Equal(4096, new PaillierPublicKey(TestNumbers.OddModulus(new Random(9), 4096), backend).BitLength);
    }

    [Fact]
    public void A_disposed_private_key_refuses_to_decrypt()
    {
        PaillierPrivateKey key = PaillierPrivateKey.FromPrimesUnchecked(_key.P, _key.Q, _key.PublicKey.Backend);
        BigInteger c = key.PublicKey.Encrypt(BigInteger.One);
        Assert.Equal(BigInteger.One, key.Decrypt(c));

        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.Decrypt(c));
        Assert.Throws<ObjectDisposedException>(() => key.P);
    }
}
