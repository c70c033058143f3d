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
    public void Decrypting_a_times_c_to_the_e_mod_p_squared_equals_the_full_decryption_mod_p()
    {
        BigInteger nSquared = _openSsl.PublicKey.NSquared;
        BigInteger p = _openSsl.P;
        var random = new Random(13);
        List<BigInteger> exponents = [BigInteger.Zero, BigInteger.One, BigInteger.Two.Pow(128).Subtract(BigInteger.One)];
        exponents.AddRange(Enumerable.Range(0, 5).Select(_ => new BigInteger(128, new Org.BouncyCastle.Security.SecureRandom())));
        foreach (BigInteger e in exponents)
        {
            BigInteger a = _openSsl.PublicKey.Encrypt(TestNumbers.BelowModulus(random, _openSsl.PublicKey.N));
            // c is any unit (a client chooses c3 freely), not only an honest encryption.
            BigInteger c = TestNumbers.BelowModulus(random, nSquared).Add(BigInteger.One);
            BigInteger product = a.Multiply(c.ModPow(e, nSquared)).Mod(nSquared);
            (BigInteger, BigInteger) expected = (_managed.Decrypt(product).Mod(p), product.Mod(p));
            Assert.Equal(expected, _openSsl.DecryptProductModP(a, c, e));
            Assert.Equal(expected, _managed.DecryptProductModP(a, c, e));
        }
        foreach (PaillierPrivateKey key in new[] { _openSsl, _managed })
        {
            Assert.Equal(MpcErrorCode.InvalidCiphertext, Assert.Throws<MpcProtocolException>(() => key.DecryptProductModP(p, BigInteger.Two, BigInteger.One)).Code);
            Assert.Equal(MpcErrorCode.InvalidCiphertext, Assert.Throws<MpcProtocolException>(() => key.DecryptProductModP(BigInteger.Two, p.Multiply(BigInteger.Three), BigInteger.Zero)).Code);
            Assert.Equal(MpcErrorCode.InvalidCiphertext, Assert.Throws<MpcProtocolException>(() => key.DecryptProductModP(BigInteger.Two, nSquared, BigInteger.One)).Code);
        }
    }

    [Fact]
    public void A_unit_of_Z_p_squared_is_one_exactly_when_it_is_one_mod_p_and_its_plaintext_mod_p_is_zero()
    {
        // The identity behind the one-prime Paillier check: u = 1 (mod p²) ⇔ u ≡ 1 (mod p) and u^(p−1) ≡ 1 (mod p²).
        BigInteger p = _openSsl.P, q = _openSsl.Q, n = _openSsl.PublicKey.N, nSquared = _openSsl.PublicKey.NSquared;
        BigInteger pSquared = p.Multiply(p);
        var random = new Random(15);
        BigInteger w = TestNumbers.BelowModulus(random, n).Add(BigInteger.One);
        BigInteger wToN = w.ModPow(n, nSquared);
        // (w^N)^(p−1) ≡ 1 (mod p²): p divides N, and Z*_{p²} has order p(p−1).
        Assert.Equal(BigInteger.One, wToN.ModPow(p.Subtract(BigInteger.One), pSquared));
        foreach ((BigInteger u, bool isOne) in new[]
        {
            (BigInteger.One, true),
            (BigInteger.One.Add(pSquared.Multiply(q)), true),
            // ≡ 1 mod p, not mod p²: a plaintext of 1 mod p (1 + N = (1+N)^1).
            (BigInteger.One.Add(n), false),
            // ≡ 1 mod p², not mod N²: the one-prime check accepts it, and gcd(u − 1, N) = p is what its maker holds.
            (BigInteger.One.Add(pSquared), true),
            // An N-th residue that is not 1: right plaintext (0), wrong residue mod p.
            (wToN, wToN.Mod(pSquared).Equals(BigInteger.One)),
        })
        {
            (BigInteger plaintext, BigInteger modP) = _openSsl.DecryptProductModP(u, BigInteger.One, BigInteger.Zero);
            Assert.Equal(isOne, plaintext.SignValue == 0 && modP.Equals(BigInteger.One));
            Assert.Equal(isOne, u.Mod(pSquared).Equals(BigInteger.One));
        }
        Assert.Equal(p, BigInteger.One.Add(pSquared).Subtract(BigInteger.One).Gcd(n));
    }

    [Fact]
    public void Pairs_of_powers_mod_p_with_the_cached_montgomery_context_equal_plain_modpow()
    {
        BigInteger p = _openSsl.P, nSquared = _openSsl.PublicKey.NSquared;
        var random = new Random(14);
        BigInteger full = p.Subtract(BigInteger.Two);
        foreach ((BigInteger first, BigInteger firstExponent, BigInteger second, BigInteger secondExponent) in new[]
        {
            (TestNumbers.BelowModulus(random, nSquared), full, TestNumbers.BelowModulus(random, nSquared), p.Subtract(BigInteger.Three)),
            (TestNumbers.BelowModulus(random, nSquared), BigInteger.Two.Pow(128).Subtract(BigInteger.One), TestNumbers.BelowModulus(random, p), BigInteger.Two.Pow(128)),
            (TestNumbers.BelowModulus(random, p), BigInteger.Zero, p, BigInteger.One),
            (p.Multiply(_openSsl.Q), BigInteger.Three, BigInteger.Zero, BigInteger.Seven),
        })
        {
            (BigInteger, BigInteger) expected = (first.ModPow(firstExponent, p), second.ModPow(secondExponent, p));
            Assert.Equal(expected, _openSsl.PowPairModP(first, firstExponent, second, secondExponent));
            Assert.Equal(expected, _managed.PowPairModP(first, firstExponent, second, secondExponent));
        }
    }

    [Fact]
    public void The_verifiers_short_public_exponent_pair_equals_the_padded_pair_and_plain_modpow()
    {
        // S^e and T^e of the c3 check take the 128-bit challenge as it is; the padded path (exponent + k·(p − 1))
        // must give the same residues for every e, including 0 and the largest challenge.
        BigInteger p = _openSsl.P, n = _openSsl.PublicKey.N;
        var random = new Random(15);
        foreach (PaillierPrivateKey key in new[] { _openSsl, _managed })
        {
            var modP = new Mpc.Crypto.Proofs.OnePrimeArithmetic(key);
            foreach (BigInteger e in new[] { BigInteger.Zero, BigInteger.One, BigInteger.Two.Pow(128).Subtract(BigInteger.One), new BigInteger(128, new Org.BouncyCastle.Security.SecureRandom()) })
            {
                BigInteger s = TestNumbers.BelowModulus(random, n).Add(BigInteger.One), t = TestNumbers.BelowModulus(random, n).Add(BigInteger.One);
                (BigInteger, BigInteger) expected = (s.ModPow(e, p), t.ModPow(e, p));
                Assert.Equal(expected, modP.PowPairPublicExponents(s, e, t, e));
                Assert.Equal(expected, modP.PowPair(s, e, t, e));
            }
        }
    }

    [Fact]
    public void The_verifiers_lengthened_public_exponent_pair_equals_plain_modpow_for_every_sign_and_size()
    {
        // C^z1·w^N of the c3 check: z1 ≥ 0 reduces to itself (514 bits) and is lengthened by p − 1, a negative z1
        // reduces to nearly p's length, N to q mod (p − 1); the residues must not depend on which path ran.
        BigInteger p = _openSsl.P, n = _openSsl.PublicKey.N;
        var random = new Random(16);
        var secure = new Org.BouncyCastle.Security.SecureRandom();
        BigInteger z1 = new BigInteger(514, secure);
        BigInteger[] exponents =
        [
            BigInteger.Zero, BigInteger.One, z1, z1.Negate(), n, n.Negate(), p.Subtract(BigInteger.One), p.Subtract(BigInteger.Two),
            p, BigInteger.Two.Pow(p.BitLength).Subtract(BigInteger.One), n.Multiply(n).Add(z1),
        ];
        foreach (PaillierPrivateKey key in new[] { _openSsl, _managed })
        {
            var modP = new Mpc.Crypto.Proofs.OnePrimeArithmetic(key);
            foreach (BigInteger exponent in exponents)
            {
                BigInteger c = TestNumbers.BelowModulus(random, n.Multiply(n)).Add(BigInteger.One), w = TestNumbers.BelowModulus(random, n).Add(BigInteger.One);
                (BigInteger, BigInteger) expected = (Power(c, exponent, p), Power(w, n, p));
                Assert.Equal(expected, modP.PowPairPublic(c, exponent, w, n));
                Assert.Equal(expected, modP.PowPair(c, exponent, w, n));
            }
        }

        static BigInteger Power(BigInteger value, BigInteger exponent, BigInteger modulus) =>
            exponent.SignValue >= 0 ? value.ModPow(exponent, modulus) : value.ModInverse(modulus).ModPow(exponent.Negate(), modulus);
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
