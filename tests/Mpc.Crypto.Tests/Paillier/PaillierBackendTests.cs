using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Paillier;

/// <summary>The Paillier arithmetic, run explicitly on both big-number backends.</summary>
[Collection("paillier key")]
public sealed class PaillierBackendTests(PaillierKeyFixture keys)
{
    public static TheoryData<BigNumBackendKind> Backends => [BigNumBackendKind.OpenSsl, BigNumBackendKind.Managed];

    [Theory]
    [MemberData(nameof(Backends))]
    public void Decrypt_inverts_Encrypt(BigNumBackendKind kind)
    {
        PaillierPrivateKey key = keys.Key(kind);
        BigInteger n = key.PublicKey.N;
        var random = new Random(1);
        List<BigInteger> plaintexts = [BigInteger.Zero, BigInteger.One, n.Subtract(BigInteger.One), n.ShiftRight(1)];
        plaintexts.AddRange(Enumerable.Range(0, 4).Select(_ => TestNumbers.BelowModulus(random, n)));

        foreach (BigInteger m in plaintexts)
        {
            BigInteger c = key.PublicKey.Encrypt(m);
            Assert.Equal(m, key.Decrypt(c));
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Plaintexts_outside_zero_to_N_wrap_modulo_N(BigNumBackendKind kind)
    {
        PaillierPrivateKey key = keys.Key(kind);
        BigInteger n = key.PublicKey.N;

        Assert.Equal(n.Subtract(BigInteger.One), key.Decrypt(key.PublicKey.Encrypt(BigInteger.One.Negate())));
        Assert.Equal(BigInteger.Five, key.Decrypt(key.PublicKey.Encrypt(n.Add(BigInteger.Five))));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Encryption_is_randomised(BigNumBackendKind kind)
    {
        PaillierPublicKey publicKey = keys.Key(kind).PublicKey;

        Assert.NotEqual(publicKey.Encrypt(BigInteger.Ten), publicKey.Encrypt(BigInteger.Ten));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Add_of_ciphertexts_decrypts_to_the_sum_mod_N(BigNumBackendKind kind)
    {
        PaillierPrivateKey key = keys.Key(kind);
        BigInteger n = key.PublicKey.N;
        var random = new Random(2);
        BigInteger a = TestNumbers.BelowModulus(random, n);
        BigInteger b = TestNumbers.BelowModulus(random, n);
        BigInteger nearTop = n.Subtract(BigInteger.Two);

        Assert.Equal(a.Add(b).Mod(n), key.Decrypt(key.PublicKey.Add(key.PublicKey.Encrypt(a), key.PublicKey.Encrypt(b))));
        // Wrap-around: (N - 2) + 5 = 3 mod N.
        Assert.Equal(BigInteger.Three, key.Decrypt(key.PublicKey.Add(key.PublicKey.Encrypt(nearTop), key.PublicKey.Encrypt(BigInteger.Five))));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Multiply_by_a_scalar_decrypts_to_the_product_mod_N(BigNumBackendKind kind)
    {
        PaillierPrivateKey key = keys.Key(kind);
        BigInteger n = key.PublicKey.N;
        var random = new Random(3);
        BigInteger a = TestNumbers.BelowModulus(random, n);
        BigInteger k = TestNumbers.Exactly(random, 256);

        Assert.Equal(a.Multiply(k).Mod(n), key.Decrypt(key.PublicKey.Multiply(key.PublicKey.Encrypt(a), k)));
        Assert.Equal(BigInteger.Zero, key.Decrypt(key.PublicKey.Multiply(key.PublicKey.Encrypt(a), BigInteger.Zero)));
        Assert.Equal(a, key.Decrypt(key.PublicKey.Multiply(key.PublicKey.Encrypt(a), BigInteger.One)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Precomputed_randomness_gives_the_same_ciphertext_as_the_same_nonce(BigNumBackendKind kind)
    {
        PaillierPublicKey publicKey = keys.Key(kind).PublicKey;
        BigInteger nonce = publicKey.RandomUnit();
        BigInteger m = BigInteger.ValueOf(424242);
        var randomness = new PaillierRandomness(publicKey.N, publicKey.Backend.ModPow(nonce, publicKey.N, publicKey.NSquared));

        BigInteger precomputed = publicKey.Encrypt(m, randomness);

        Assert.Equal(publicKey.EncryptWithNonce(m, nonce), precomputed);
        Assert.True(randomness.IsConsumed);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void CreateRandomness_encrypts_decryptably(BigNumBackendKind kind)
    {
        PaillierPrivateKey key = keys.Key(kind);
        PaillierRandomness randomness = key.PublicKey.CreateRandomness();

        Assert.True(randomness.IsFor(key.PublicKey.N));
        Assert.False(randomness.IsConsumed);
        Assert.Equal(BigInteger.ValueOf(77), key.Decrypt(key.PublicKey.Encrypt(BigInteger.ValueOf(77), randomness)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Private_CRT_EncryptWithNonce_equals_the_public_path(BigNumBackendKind kind)
    {
        PaillierPrivateKey key = keys.Key(kind);
        var random = new Random(4);
        for (int i = 0; i < 4; i++)
        {
            BigInteger m = TestNumbers.BelowModulus(random, key.PublicKey.N);
            BigInteger nonce = key.PublicKey.RandomUnit();

            Assert.Equal(key.PublicKey.EncryptWithNonce(m, nonce), key.EncryptWithNonce(m, nonce));
            Assert.Equal(key.PublicKey.Backend.ModPow(nonce, key.PublicKey.N, key.PublicKey.NSquared), key.NoncePower(nonce));
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Decrypt_recovers_the_plaintext_of_EncryptWithNonce(BigNumBackendKind kind)
    {
        PaillierPrivateKey key = keys.Key(kind);
        BigInteger m = key.PublicKey.N.Subtract(BigInteger.ValueOf(12345));

        Assert.Equal(m, key.Decrypt(key.EncryptWithNonce(m, key.PublicKey.RandomUnit())));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Both_backends_encrypt_identically_for_the_same_nonce(BigNumBackendKind kind)
    {
        PaillierPublicKey publicKey = keys.Key(kind).PublicKey;
        PaillierPublicKey other = keys.Key(kind == BigNumBackendKind.OpenSsl ? BigNumBackendKind.Managed : BigNumBackendKind.OpenSsl).PublicKey;
        BigInteger nonce = publicKey.RandomUnit();

        Assert.Equal(other.EncryptWithNonce(BigInteger.Ten, nonce), publicKey.EncryptWithNonce(BigInteger.Ten, nonce));
    }
}
