using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Paillier;

[Collection("paillier key")]
public sealed class PaillierRandomnessTests(PaillierKeyFixture keys)
{
    private readonly PaillierPublicKey _publicKey = keys.Key(BigNumBackendKind.OpenSsl).PublicKey;

    [Fact]
    public void Second_use_throws()
    {
        PaillierRandomness randomness = _publicKey.CreateRandomness();
        _publicKey.Encrypt(BigInteger.One, randomness);

        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => _publicKey.Encrypt(BigInteger.One, randomness));
        Assert.Contains("already been used", e.Message, StringComparison.Ordinal);
        Assert.Equal("PaillierRandomness(consumed)", randomness.ToString());
    }

    [Fact]
    public void Use_under_a_foreign_modulus_throws_and_leaves_it_unused()
    {
        PaillierRandomness randomness = _publicKey.CreateRandomness();
        // Another valid 2048-bit odd modulus: N + 2 has the same size and is odd.
        var foreign = new PaillierPublicKey(_publicKey.N.Add(BigInteger.Two), _publicKey.Backend);

        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => foreign.Encrypt(BigInteger.One, randomness));
        Assert.Contains("different modulus", e.Message, StringComparison.Ordinal);
        Assert.False(randomness.IsFor(foreign.N));
        Assert.False(randomness.IsConsumed);
        _publicKey.Encrypt(BigInteger.One, randomness);
        Assert.True(randomness.IsConsumed);
    }

    [Fact]
    public void Concurrent_use_succeeds_exactly_once()
    {
        PaillierRandomness randomness = _publicKey.CreateRandomness();
        int successes = 0;
        int failures = 0;

        Parallel.For(0, 16, _ =>
        {
            try
            {
                _publicKey.Encrypt(BigInteger.One, randomness);
                Interlocked.Increment(ref successes);
            }
            catch (InvalidOperationException)
            {
                Interlocked.Increment(ref failures);
            }
        });

        Assert.Equal(1, successes);
        Assert.Equal(15, failures);
    }
}
