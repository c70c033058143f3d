using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Paillier;

/// <summary>
/// The native (OpenSSL, constant-time) decryption context against the managed one on the same primes: equal
/// results on random and edge ciphertexts, the same refusals, and nothing usable after Dispose.
/// </summary>
[Collection("paillier key")]
public sealed class PaillierDecryptionContextTests(PaillierKeyFixture keys)
{
    private readonly PaillierPrivateKey _openSsl = keys.Key(BigNumBackendKind.OpenSsl);
    private readonly PaillierPrivateKey _managed = keys.Key(BigNumBackendKind.Managed);

    public static TheoryData<BigNumBackendKind> Backends => [BigNumBackendKind.OpenSsl, BigNumBackendKind.Managed];

    [Fact]
    public void OpenSsl_decryption_equals_managed_decryption_on_random_units_and_edges()
    {
        BigInteger n = _openSsl.PublicKey.N;
        BigInteger nSquared = _openSsl.PublicKey.NSquared;
        BigInteger p = _openSsl.P, q = _openSsl.Q;
        var random = new Random(10);
        List<BigInteger> ciphertexts =
        [
            BigInteger.One,
            nSquared.Subtract(BigInteger.One),
            n.Add(BigInteger.One),
            nSquared.Subtract(n).Add(BigInteger.One),
            p.Multiply(p).Add(BigInteger.One),
            q.Multiply(q).Subtract(BigInteger.One),
            p.Multiply(p).Multiply(q).Add(BigInteger.One),
            BigInteger.Two,
        ];
        // Arbitrary units of Z*_{N²}, not only honest encryptions: a client chooses c3 freely.
        while (ciphertexts.Count < 120)
        {
            BigInteger c = TestNumbers.BelowModulus(random, nSquared);
            if (c.SignValue > 0 && c.Gcd(n).Equals(BigInteger.One))
            {
                ciphertexts.Add(c);
            }
        }

        foreach (BigInteger c in ciphertexts)
        {
            BigInteger expected = _managed.Decrypt(c);
            Assert.Equal(expected, _openSsl.Decrypt(c));
            Assert.True(expected.SignValue >= 0 && expected.CompareTo(n) < 0);
        }
        Assert.Equal(BigInteger.Zero, _openSsl.Decrypt(BigInteger.One));
        Assert.Equal(BigInteger.One, _openSsl.Decrypt(n.Add(BigInteger.One)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Multiples_of_p_or_q_and_values_outside_one_to_N_squared_are_refused_before_decryption(BigNumBackendKind kind)
    {
        PaillierPrivateKey key = keys.Key(kind);
        BigInteger nSquared = key.PublicKey.NSquared;
        BigInteger p = key.P, q = key.Q;
        var random = new Random(11);
        List<BigInteger> notUnits = [p, q, p.Multiply(p), q.Multiply(BigInteger.Seven), nSquared.Subtract(p), nSquared.Subtract(q), key.PublicKey.N];
        notUnits.AddRange(Enumerable.Range(0, 10).Select(_ => p.Multiply(TestNumbers.BelowModulus(random, q.Multiply(q).Multiply(p)).Add(BigInteger.One))));
        notUnits.AddRange(Enumerable.Range(0, 10).Select(_ => q.Multiply(TestNumbers.BelowModulus(random, p.Multiply(p).Multiply(q)).Add(BigInteger.One))));
        List<BigInteger> outOfRange = [BigInteger.Zero, BigInteger.One.Negate(), nSquared, nSquared.Add(BigInteger.One), nSquared.ShiftLeft(1), nSquared.Negate()];

        foreach (BigInteger c in notUnits.Concat(outOfRange))
        {
            Assert.Equal(MpcErrorCode.InvalidCiphertext, Assert.Throws<MpcProtocolException>(() => key.Decrypt(c)).Code);
            Assert.Equal(MpcErrorCode.InvalidCiphertext, Assert.Throws<MpcProtocolException>(() => key.RequireCiphertext(c, "c3")).Code);
        }
        key.RequireCiphertext(BigInteger.One, "c3");
        key.RequireCiphertext(nSquared.Subtract(BigInteger.One), "c3");
    }

    [Fact]
    public void Decrypting_a_times_c_to_the_e_through_the_crt_equals_decrypting_the_product_mod_N_squared()
    {
        BigInteger nSquared = _openSsl.PublicKey.NSquared;
        var random = new Random(13);
        List<BigInteger> exponents = [BigInteger.Zero, BigInteger.One, BigInteger.Two.Pow(128).Subtract(BigInteger.One)];
        exponents.AddRange(Enumerable.Range(0, 5).Select(_ => new BigInteger(128, new Org.BouncyCastle.Security.SecureRandom())));
        foreach (BigInteger e in exponents)
        {
            BigInteger a = _openSsl.PublicKey.Encrypt(TestNumbers.BelowModulus(random, _openSsl.PublicKey.N));
            // c is any unit (a client chooses c3 freely), not only an honest encryption.
            BigInteger c = TestNumbers.BelowModulus(random, nSquared).Add(BigInteger.One);
            BigInteger expected = _managed.Decrypt(a.Multiply(c.ModPow(e, nSquared)).Mod(nSquared));
            Assert.Equal(expected, _openSsl.DecryptProduct(a, c, e));
            Assert.Equal(expected, _managed.DecryptProduct(a, c, e));
        }
        BigInteger p = _openSsl.P;
        foreach (PaillierPrivateKey key in new[] { _openSsl, _managed })
        {
            Assert.Equal(MpcErrorCode.InvalidCiphertext, Assert.Throws<MpcProtocolException>(() => key.DecryptProduct(p, BigInteger.Two, BigInteger.One)).Code);
            Assert.Equal(MpcErrorCode.InvalidCiphertext, Assert.Throws<MpcProtocolException>(() => key.DecryptProduct(BigInteger.Two, p, BigInteger.One)).Code);
            Assert.Equal(MpcErrorCode.InvalidCiphertext, Assert.Throws<MpcProtocolException>(() => key.DecryptProduct(BigInteger.Two, nSquared, BigInteger.One)).Code);
        }
    }

    [Fact]
    public void Powers_mod_the_primes_with_the_cached_montgomery_contexts_equal_plain_modpow()
    {
        BigInteger p = _openSsl.P, q = _openSsl.Q, nSquared = _openSsl.PublicKey.NSquared;
        var random = new Random(14);
        BigInteger full = p.Subtract(BigInteger.Two);
        foreach ((BigInteger value, BigInteger exponentP, BigInteger exponentQ) in new[]
        {
            (TestNumbers.BelowModulus(random, nSquared), full, q.Subtract(BigInteger.Two)),
            (TestNumbers.BelowModulus(random, nSquared), BigInteger.Two.Pow(128).Subtract(BigInteger.One), BigInteger.Two.Pow(128).Subtract(BigInteger.One)),
            (TestNumbers.BelowModulus(random, p), BigInteger.Zero, BigInteger.One),
            (p.Multiply(q), BigInteger.Three, BigInteger.Three),
            (BigInteger.Zero, BigInteger.Seven, BigInteger.Zero),
        })
        {
            (BigInteger ModP, BigInteger ModQ) expected = (value.ModPow(exponentP, p), value.ModPow(exponentQ, q));
            Assert.Equal(expected, _openSsl.PowModPrimes(value, exponentP, exponentQ));
            Assert.Equal(expected, _managed.PowModPrimes(value, exponentP, exponentQ));
        }
    }

    [Fact]
    public void OpenSsl_nonce_power_equals_managed_and_the_public_path()
    {
        BigInteger n = _openSsl.PublicKey.N;
        var random = new Random(12);
        List<BigInteger> nonces = [BigInteger.One, n.Subtract(BigInteger.One), BigInteger.Two];
        nonces.AddRange(Enumerable.Range(0, 6).Select(_ => _openSsl.PublicKey.RandomUnit()));

        foreach (BigInteger r in nonces)
        {
            BigInteger expected = r.ModPow(n, _openSsl.PublicKey.NSquared);
            Assert.Equal(expected, _openSsl.NoncePower(r));
            Assert.Equal(expected, _managed.NoncePower(r));
        }
        BigInteger m = TestNumbers.BelowModulus(random, n);
        BigInteger nonce = _openSsl.PublicKey.RandomUnit();
        Assert.Equal(_openSsl.PublicKey.EncryptWithNonce(m, nonce), _openSsl.EncryptWithNonce(m, nonce));
        Assert.Equal(m, _openSsl.Decrypt(_openSsl.EncryptWithNonce(m, nonce)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void After_Dispose_every_secret_operation_throws_ObjectDisposedException(BigNumBackendKind kind)
    {
        PaillierPrivateKey key = PaillierPrivateKey.FromPrimesUnchecked(_openSsl.P, _openSsl.Q, TestNumbers.Backend(kind));
        BigInteger c = key.PublicKey.Encrypt(BigInteger.Ten);
        BigInteger nonce = key.PublicKey.RandomUnit();
        Assert.Equal(BigInteger.Ten, key.Decrypt(c));

        key.Dispose();
        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.Decrypt(c));
        Assert.Throws<ObjectDisposedException>(() => key.RequireCiphertext(c, "c"));
        Assert.Throws<ObjectDisposedException>(() => key.NoncePower(nonce));
        Assert.Throws<ObjectDisposedException>(() => key.EncryptWithNonce(BigInteger.One, nonce));
        Assert.Throws<ObjectDisposedException>(() => key.P);
        Assert.Throws<ObjectDisposedException>(() => key.Q);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_disposed_context_refuses_every_call(BigNumBackendKind kind)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        IPaillierDecryptionContext context = backend.CreateDecryptionContext(_openSsl.P, _openSsl.Q);
        BigInteger c = _openSsl.PublicKey.Encrypt(BigInteger.Seven);
        Assert.Equal(BigInteger.Seven, context.Decrypt(c));

        context.Dispose();

        Assert.Throws<ObjectDisposedException>(() => context.Decrypt(c));
        Assert.Throws<ObjectDisposedException>(() => context.IsUnit(c));
        Assert.Throws<ObjectDisposedException>(() => context.NoncePower(BigInteger.Two));
    }

    [Fact]
    public async Task Dispose_during_concurrent_decryptions_lets_each_finish_correctly_or_refuse()
    {
        using var key = PaillierPrivateKey.FromPrimesUnchecked(_openSsl.P, _openSsl.Q, TestNumbers.Backend(BigNumBackendKind.OpenSsl));
        BigInteger m = BigInteger.ValueOf(424242);
        BigInteger c = key.PublicKey.Encrypt(m);
        int decrypted = 0, refused = 0;
        using var started = new CountdownEvent(4);

        Task[] workers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            started.Signal();
            for (int i = 0; i < 200; i++)
            {
                try
                {
                    Assert.Equal(m, key.Decrypt(c));
                    Interlocked.Increment(ref decrypted);
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref refused);
                    return;
                }
            }
        })).ToArray();
        started.Wait(TimeSpan.FromSeconds(30));
        await Task.Delay(20);
        key.Dispose();
        await Task.WhenAll(workers);

        Assert.True(decrypted > 0);
        Assert.Throws<ObjectDisposedException>(() => key.Decrypt(c));
    }

    [Fact]
    public void The_native_context_refuses_a_composite_prime()
    {
        IBigNumBackend backend = TestNumbers.Backend(BigNumBackendKind.OpenSsl);
        // A ~1040-bit "p" that is a product of two primes: Fermat's inverse fails its check, so the key is refused.
        BigInteger composite = backend.GeneratePrime(520, blum: true).Multiply(backend.GeneratePrime(520, blum: false));

        MpcProtocolException e = Assert.Throws<MpcProtocolException>(
            () => PaillierPrivateKey.FromPrimesUnchecked(composite, _openSsl.Q, backend));
        Assert.Equal(MpcErrorCode.InvalidPaillierModulus, e.Code);
    }
}
