using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.BigNum;

/// <summary>Each backend's primes are checked with the <em>other</em> backend's primality test.</summary>
public sealed class PrimeTests
{
    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl, 256, false)]
    [InlineData(BigNumBackendKind.OpenSsl, 257, true)]
    [InlineData(BigNumBackendKind.OpenSsl, 512, true)]
    [InlineData(BigNumBackendKind.OpenSsl, 1024, true)]
    [InlineData(BigNumBackendKind.OpenSsl, 1024, false)]
    [InlineData(BigNumBackendKind.Managed, 256, false)]
    [InlineData(BigNumBackendKind.Managed, 257, true)]
    [InlineData(BigNumBackendKind.Managed, 512, true)]
    [InlineData(BigNumBackendKind.Managed, 1024, true)]
    [InlineData(BigNumBackendKind.Managed, 1024, false)]
    public void GeneratePrime_has_exact_size_top_two_bits_and_Blum_residue(BigNumBackendKind kind, int bits, bool blum)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        IBigNumBackend other = OtherThan(kind);

        for (int i = 0; i < 3; i++)
        {
            BigInteger prime = backend.GeneratePrime(bits, blum);

            Assert.Equal(bits, prime.BitLength);
            Assert.True(prime.TestBit(bits - 1) && prime.TestBit(bits - 2), "top two bits must be set");
            Assert.True(other.IsProbablePrime(prime), "the other backend must agree it is prime");
            if (blum)
            {
                Assert.Equal(3, prime.Mod(BigInteger.Four).IntValue);
            }
        }
    }

    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl)]
    [InlineData(BigNumBackendKind.Managed)]
    public void GenerateSafePrime_gives_p_with_prime_half(BigNumBackendKind kind)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        IBigNumBackend other = OtherThan(kind);

        BigInteger p = backend.GenerateSafePrime(512);

        Assert.Equal(512, p.BitLength);
        Assert.True(p.TestBit(511) && p.TestBit(510), "top two bits must be set");
        Assert.True(other.IsProbablePrime(p), "p must be prime");
        Assert.True(other.IsProbablePrime(p.ShiftRight(1)), "(p - 1) / 2 must be prime");
    }

    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl, 1)]
    [InlineData(BigNumBackendKind.OpenSsl, 2)]
    [InlineData(BigNumBackendKind.OpenSsl, 5)]
    [InlineData(BigNumBackendKind.Managed, 2)]
    public void GenerateSafePrimes_gives_as_many_distinct_safe_primes_as_asked(BigNumBackendKind kind, int count)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);
        IBigNumBackend other = OtherThan(kind);

        // More than the searches running side by side (5): the searches that found one go on until all are found.
        BigInteger[] primes = backend.GenerateSafePrimes(384, count);

        Assert.Equal(count, primes.Length);
        Assert.Equal(count, primes.Distinct().Count());
        Assert.All(primes, p =>
        {
            Assert.Equal(384, p.BitLength);
            Assert.True(p.TestBit(383) && p.TestBit(382), "top two bits must be set");
            Assert.True(other.IsProbablePrime(p), "p must be prime");
            Assert.True(other.IsProbablePrime(p.ShiftRight(1)), "(p - 1) / 2 must be prime");
        });
    }

    [Theory]
    [InlineData(40)]
    [InlineData(80)]
    [InlineData(130)]
    public void The_safe_prime_sieve_strikes_exactly_the_q_with_a_small_factor_in_q_or_2q_plus_1(int startBits)
    {
        // Every q of the window that the sieve keeps has no odd prime factor below 2^16 in q or 2q + 1, and every q it
        // strikes has one: so no safe prime is ever struck out. Checked by trial division, independently of the sieve.
        IBigNumBackend backend = TestNumbers.Backend(BigNumBackendKind.OpenSsl);
        BigInteger start = backend.GeneratePrime(startBits, blum: false);
        const int window = 512;
        int[] oddPrimes = [.. Enumerable.Range(3, (1 << 16) - 3).Where(r => r % 2 == 1 && backend.IsProbablePrime(BigInteger.ValueOf(r)))];

        bool[] struck = SafePrimeSearch.Sieve(start, window);

        Assert.Equal(window, struck.Length);
        var first = System.Numerics.BigInteger.Parse(start.ToString(), System.Globalization.CultureInfo.InvariantCulture);
        for (int k = 0; k < window; k++)
        {
            System.Numerics.BigInteger q = first + 2 * k, p = 2 * q + 1;
            bool hasSmallFactor = oddPrimes.Any(r => q % r == 0 || p % r == 0);
            Assert.True(struck[k] == hasSmallFactor, $"k = {k}: struck {struck[k]}, small factor {hasSmallFactor}");
        }
    }

    [Fact]
    public void GenerateSafePrimes_stops_the_searches_left_over_and_runs_again_cleanly()
    {
        // The searches still running when enough are found are stopped through OpenSSL's callback (an OpenSSL error
        // that must not leak into the next call): many rounds in a row, each returning its primes.
        IBigNumBackend backend = TestNumbers.Backend(BigNumBackendKind.OpenSsl);
        for (int round = 0; round < 20; round++)
        {
            BigInteger[] primes = backend.GenerateSafePrimes(256, 2);
            Assert.Equal(2, primes.Length);
            Assert.True(backend.IsProbablePrime(primes[0]) && backend.IsProbablePrime(primes[1]));
        }
    }

    [Theory]
    [InlineData(BigNumBackendKind.OpenSsl, 15)]
    [InlineData(BigNumBackendKind.OpenSsl, 8193)]
    [InlineData(BigNumBackendKind.Managed, 15)]
    [InlineData(BigNumBackendKind.Managed, 8193)]
    public void Prime_sizes_out_of_range_are_refused(BigNumBackendKind kind, int bits)
    {
        IBigNumBackend backend = TestNumbers.Backend(kind);

        Assert.Throws<ArgumentOutOfRangeException>(() => backend.GeneratePrime(bits, blum: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.GenerateSafePrime(bits));
    }

    public static TheoryData<string, bool> KnownNumbers() => new()
    {
        { "2", true },
        { "3", true },
        { "7919", true },
        { "2305843009213693951", true },                           // 2^61 - 1
        { "170141183460469231731687303715884105727", true },       // 2^127 - 1
        // secp256k1's field prime and P-256's group order.
        { "115792089237316195423570985008687907853269984665640564039457584007908834671663", true },
        { "115792089210356248762697446949407573529996955224135760342422259061068512044369", true },
        { "0", false },
        { "1", false },
        { "4", false },
        { "561", false },                                          // Carmichael 3·11·17
        { "1105", false },                                         // Carmichael
        { "41041", false },                                        // Carmichael 7·11·13·41
        { "2047", false },                                         // strong pseudoprime to base 2
        { "3215031751", false },                                   // strong pseudoprime to bases 2, 3, 5, 7
        { "147573952589676412927", false },                        // 2^67 - 1 = 193707721 · 761838257287
        { "-7", false },
        { "-2305843009213693951", false },
    };

    [Theory]
    [MemberData(nameof(KnownNumbers))]
    public void IsProbablePrime_agrees_on_known_numbers(string number, bool isPrime)
    {
        var value = new BigInteger(number);

        Assert.Equal(isPrime, TestNumbers.Backend(BigNumBackendKind.OpenSsl).IsProbablePrime(value));
        Assert.Equal(isPrime, TestNumbers.Backend(BigNumBackendKind.Managed).IsProbablePrime(value));
    }

    [Fact]
    public void IsProbablePrime_refuses_a_product_of_two_512_bit_primes_and_a_prime_square()
    {
        IBigNumBackend openSsl = TestNumbers.Backend(BigNumBackendKind.OpenSsl);
        IBigNumBackend managed = TestNumbers.Backend(BigNumBackendKind.Managed);
        BigInteger p = openSsl.GeneratePrime(512, blum: false);
        BigInteger q = openSsl.GeneratePrime(512, blum: false);

        foreach (BigInteger composite in new[] { p.Multiply(q), p.Multiply(p), p.ShiftLeft(1) })
        {
            Assert.False(openSsl.IsProbablePrime(composite));
            Assert.False(managed.IsProbablePrime(composite));
        }
        Assert.True(openSsl.IsProbablePrime(q) && managed.IsProbablePrime(q));
    }

    private static IBigNumBackend OtherThan(BigNumBackendKind kind) =>
        TestNumbers.Backend(kind == BigNumBackendKind.OpenSsl ? BigNumBackendKind.Managed : BigNumBackendKind.OpenSsl);
}
