using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// The OpenSSL backend's <see cref="IBigNumBackend.PublicProductOfPowers"/>: ∏ values[i]^exponents[i] mod modulus by
/// Pippenger's bucket method in Montgomery form, for PUBLIC values and exponents only (it branches on exponent digits).
/// </summary>
/// <remarks>
/// Per window of c exponent bits: one multiplication per base into the bucket of its digit, then about 2·2^c to sum
/// the buckets weighted by their digit, then c squarings shared by all bases. For the Πmod batch check (128 bases,
/// 128-bit weights, c = 5) that is about 5 000 Montgomery multiplications, against about 20 000 for 128 separate short
/// exponentiations.
/// </remarks>
internal static class OpenSslProductOfPowers
{
    public static unsafe BigInteger Compute(LibCrypto crypto, IReadOnlyList<BigInteger> values, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        BigNumGuards.CheckModPowManyArguments(values, exponents, modulus);
        int count = values.Count;
        if (count == 0)
        {
            return BigInteger.One;
        }
        int maxBits = Math.Max(1, exponents.Max(e => e.BitLength));
        int window = WindowBits(count, maxBits);
        int windows = (maxBits + window - 1) / window;
        var bases = new IntPtr[count];
        var buckets = new IntPtr[1 << window];
        var filled = new bool[buckets.Length];
        IntPtr acc = IntPtr.Zero, running = IntPtr.Zero, sum = IntPtr.Zero, r = IntPtr.Zero;
        using MontgomeryModulus m = crypto.OpenMontgomery(modulus);
        try
        {
            for (int i = 0; i < count; i++)
            {
                // Montgomery multiplication wants operands below the modulus: reduce, then convert.
                IntPtr value = crypto.ToBn(values[i].SignValue >= 0 ? values[i] : values[i].Mod(modulus));
                bases[i] = value;
                LibCrypto.Check(crypto.Div(IntPtr.Zero, value, value, m.Modulus, m.Ctx), "BN_div");
                LibCrypto.Check(crypto.ToMont(value, value, m.Mont, m.Ctx), "BN_to_montgomery");
            }
            for (int d = 1; d < buckets.Length; d++)
            {
                buckets[d] = crypto.NewSecret();
            }
            acc = crypto.NewSecret();
            running = crypto.NewSecret();
            sum = crypto.NewSecret();
            r = crypto.NewSecret();
            bool accSet = false;
            int[][] digits = [.. exponents.Select(e => Digits(e, window, windows))];
            for (int w = windows - 1; w >= 0; w--)
            {
                for (int k = 0; accSet && k < window; k++)
                {
                    m.MultiplyInto(acc, acc);
                }
                Array.Clear(filled);
                for (int i = 0; i < count; i++)
                {
                    int d = digits[i][w];
                    if (d != 0)
                    {
                        MultiplyOrCopy(crypto, m, buckets[d], ref filled[d], bases[i]);
                    }
                }
                // Σ d·bucket[d] in multiplicative form: running = ∏_{j ≥ d} bucket[j], sum = ∏_d running.
                bool runningSet = false, sumSet = false;
                for (int d = buckets.Length - 1; d >= 1; d--)
                {
                    if (filled[d])
                    {
                        MultiplyOrCopy(crypto, m, running, ref runningSet, buckets[d]);
                    }
                    if (runningSet)
                    {
                        MultiplyOrCopy(crypto, m, sum, ref sumSet, running);
                    }
                }
                if (sumSet)
                {
                    MultiplyOrCopy(crypto, m, acc, ref accSet, sum);
                }
            }
            if (!accSet)
            {
                return BigInteger.One;
            }
            LibCrypto.Check(crypto.FromMont(r, acc, m.Mont, m.Ctx), "BN_from_montgomery");
            return crypto.FromBn(r);
        }
        finally
        {
            foreach (IntPtr value in bases)
            {
                crypto.BnClearFree(value);
            }
            foreach (IntPtr bucket in buckets)
            {
                crypto.BnClearFree(bucket);
            }
            crypto.BnClearFree(acc);
            crypto.BnClearFree(running);
            crypto.BnClearFree(sum);
            crypto.BnClearFree(r);
        }
    }

    /// <summary>target ·= factor, or target = factor while target still stands for 1 (then it is set).</summary>
    private static unsafe void MultiplyOrCopy(LibCrypto crypto, MontgomeryModulus m, IntPtr target, ref bool set, IntPtr factor)
    {
        if (set)
        {
            m.MultiplyInto(target, factor);
            return;
        }
        LibCrypto.CheckCopy(crypto.Copy(target, factor));
        set = true;
    }

    /// <summary>The window c minimising windows·(count + 2·2^c + c): 5 for 128 bases of 128 bits, smaller for few bases.</summary>
    private static int WindowBits(int count, int maxBits)
    {
        int best = 1;
        long bestCost = long.MaxValue;
        for (int c = 1; c <= 8; c++)
        {
            long cost = (long)((maxBits + c - 1) / c) * (count + 2L * (1 << c) + c);
            if (cost < bestCost)
            {
                (best, bestCost) = (c, cost);
            }
        }
        return best;
    }

    /// <summary>The exponent's c-bit digits, least significant first; positions past its length are zero.</summary>
    private static int[] Digits(BigInteger exponent, int window, int windows)
    {
        var digits = new int[windows];
        for (int w = 0; w < windows; w++)
        {
            int digit = 0;
            for (int k = 0; k < window; k++)
            {
                if (exponent.TestBit(w * window + k))
                {
                    digit |= 1 << k;
                }
            }
            digits[w] = digit;
        }
        return digits;
    }
}
