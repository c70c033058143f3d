using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// Safe primes p = 2q + 1 for a new device's ring-Pedersen modulus, found by a sieve over a random window: every q in
/// the window for which q or 2q + 1 has a prime factor below 2^16 is struck out first, the survivors are tried in a
/// random order with one base-2 Fermat test on p, then on q, and a candidate that passes both is confirmed with the
/// backend's full primality test (error below 2^-128) on q and on p.
/// </summary>
/// <remarks>
/// Why not OpenSSL's own safe-prime search: it sieves with the first 128 odd primes only (up to 719 for 1024 bits), so
/// about 3 600 candidates reach an exponentiation for each safe prime found; sieving to 2^16 leaves about 1 300, and
/// the sieve itself costs well under a millisecond per window. Where the window starts is uniform (a CSPRNG); trying
/// its survivors in a random order rather than upwards keeps a prime that follows a long gap from being favoured. The
/// searches race: one per core, the first <c>count</c> primes any of them finds are taken and the others stop (a
/// memoryless search, so two primes on two cores cost one search's expected time).
/// </remarks>
internal static class SafePrimeSearch
{
    /// <summary>Odd values of q per window: 2^15 (a window holds about 0.17 safe primes at 1024 bits).</summary>
    internal const int Window = 1 << 15;

    private const int SieveBound = 1 << 16;

    /// <summary>The odd primes below 2^16 (immutable once built).</summary>
    private static readonly int[] SmallPrimes = OddPrimesBelow(SieveBound);

    /// <summary>The first <paramref name="count"/> safe primes of exactly <paramref name="bits"/> bits (top two set) found by one search per core.</summary>
    public static BigInteger[] FirstFound(IBigNumBackend backend, int bits, int count)
    {
        ArgumentNullException.ThrowIfNull(backend);
        BigNumGuards.CheckPrimeBits(bits);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var found = new List<BigInteger>(count);
        var stop = new StrongBox<int>();
        ParallelOptions options = ProofParallel.Options();
        Parallel.For(0, options.MaxDegreeOfParallelism, options, _ =>
        {
            while (Volatile.Read(ref stop.Value) == 0)
            {
                if (Search(backend, bits, stop) is not { } prime)
                {
                    return;
                }
                lock (found)
                {
                    if (found.Count < count && !found.Contains(prime))
                    {
                        found.Add(prime);
                    }
                    if (found.Count == count)
                    {
                        Volatile.Write(ref stop.Value, 1);
                    }
                }
            }
        });
        return [.. found];
    }

    /// <summary>One safe prime, or null once <paramref name="stop"/> is set.</summary>
    private static BigInteger? Search(IBigNumBackend backend, int bits, StrongBox<int> stop)
    {
        BigInteger upper = BigInteger.One.ShiftLeft(bits - 1);
        while (Volatile.Read(ref stop.Value) == 0)
        {
            BigInteger start = RandomOddStart(bits);
            bool[] struck = Sieve(start, Window);
            foreach (int k in Shuffled(Survivors(struck)))
            {
                if (Volatile.Read(ref stop.Value) != 0)
                {
                    return null;
                }
                BigInteger q = start.Add(BigInteger.ValueOf(2L * k));
                if (q.CompareTo(upper) >= 0)
                {
                    continue;
                }
                BigInteger p = q.ShiftLeft(1).Add(BigInteger.One);
                if (IsFermatProbablePrime(backend, p) && IsFermatProbablePrime(backend, q) && backend.IsProbablePrime(q) && backend.IsProbablePrime(p))
                {
                    return p;
                }
            }
        }
        return null;
    }

    /// <summary>
    /// struck[k] is true when q = <paramref name="start"/> + 2k or 2q + 1 is divisible by an odd prime below 2^16 (and
    /// below q). For each prime r, q ≡ 0 and q ≡ (r − 1)/2 (mod r) are one residue class of k each.
    /// </summary>
    internal static bool[] Sieve(BigInteger start, int window)
    {
        var struck = new bool[window];
        System.Numerics.BigInteger first = NumericsArithmetic.ToNumerics(start);
        // Only primes below q itself, so that q (and 2q + 1) is never struck for being that prime: this limits the
        // sieve only at the smallest sizes (tests), where q < 2^16.
        int bound = start.BitLength - 1 >= 17 ? SieveBound : 1 << (start.BitLength - 1);
        foreach (int r in SmallPrimes)
        {
            if (r >= bound)
            {
                break;
            }
            long m = (long)(first % r);
            long half = (r + 1) / 2;
            // q = start + 2k ≡ 0 (mod r)  ⇔  k ≡ −m·2⁻¹;  2q + 1 ≡ 0  ⇔  q ≡ (r − 1)/2  ⇔  k ≡ ((r − 1)/2 − m)·2⁻¹.
            long divisibleQ = (r - m) % r * half % r;
            long divisibleP = ((((r - 1) / 2) - m) % r + r) % r * half % r;
            for (long k = divisibleQ; k < window; k += r)
            {
                struck[k] = true;
            }
            for (long k = divisibleP; k < window; k += r)
            {
                struck[k] = true;
            }
        }
        return struck;
    }

    /// <summary>Odd q₀ of bits − 1 bits with its top two bits set, so that every p = 2q + 1 ≥ 2q₀ + 1 has its top two bits set.</summary>
    private static BigInteger RandomOddStart(int bits)
    {
        int qBits = bits - 1;
        byte[] bytes = new byte[(qBits + 7) / 8];
        RandomNumberGenerator.Fill(bytes);
        int excess = bytes.Length * 8 - qBits;
        bytes[0] &= (byte)(0xFF >> excess);
        BigInteger start = new BigInteger(1, bytes).SetBit(qBits - 1).SetBit(qBits - 2).SetBit(0);
        CryptographicOperations.ZeroMemory(bytes);
        return start;
    }

    private static List<int> Survivors(bool[] struck)
    {
        var survivors = new List<int>(struck.Length / 64);
        for (int k = 0; k < struck.Length; k++)
        {
            if (!struck[k])
            {
                survivors.Add(k);
            }
        }
        return survivors;
    }

    private static List<int> Shuffled(List<int> values)
    {
        for (int i = values.Count - 1; i > 0; i--)
        {
            int j = RandomNumberGenerator.GetInt32(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
        return values;
    }

    /// <summary>2^(n−1) ≡ 1 (mod n): a cheap filter; every candidate that passes is confirmed by the full test.</summary>
    private static bool IsFermatProbablePrime(IBigNumBackend backend, BigInteger n) =>
        backend.ModPow(BigInteger.Two, n.Subtract(BigInteger.One), n).Equals(BigInteger.One);

    private static int[] OddPrimesBelow(int bound)
    {
        var composite = new bool[bound];
        var primes = new List<int>();
        for (int i = 3; i < bound; i += 2)
        {
            if (composite[i])
            {
                continue;
            }
            primes.Add(i);
            for (long j = (long)i * i; j < bound; j += 2L * i)
            {
                composite[j] = true;
            }
        }
        return [.. primes];
    }
}
