using System.Security.Cryptography;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// The OpenSSL backend's <see cref="IBigNumBackend.PublicFixedBasePowMany"/>: many powers of one PUBLIC base with PUBLIC
/// exponents from one table of Montgomery-form powers (variable time, by design).
/// </summary>
internal static class OpenSslFixedBasePowers
{
    /// <summary>Bits per digit: ⌈L/6⌉ + 63 multiplications per power, near the minimum for L = 2048.</summary>
    private const int FixedBaseDigitBits = 6;

    /// <summary>
    /// value^exponents[i] mod modulus for every i by Yao's fixed-base method: T_j = value^(2^(6j)) in Montgomery form for each 6-bit digit position (one chain of
    /// squarings per call), then value^e = ∏_{d=63..1} (∏_{j: e_j ≥ d} T_j), about L/6 + 63 Montgomery multiplications
    /// per power instead of the L squarings of a full exponentiation. It branches on the exponents' digits and is
    /// must never see a secret: callers pass public values only (a verifier's t and the prover's responses).
    /// </summary>
    public static unsafe BigInteger[] Compute(LibCrypto crypto, BigInteger value, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        ArgumentNullException.ThrowIfNull(value);
        BigNumGuards.CheckModPowManyArguments(exponents, exponents, modulus);
        var results = new BigInteger[exponents.Count];
        if (results.Length == 0)
        {
            return results;
        }
        int maxBits = Math.Max(1, exponents.Max(e => e.BitLength));
        int positions = (maxBits + FixedBaseDigitBits - 1) / FixedBaseDigitBits;
        var table = new IntPtr[positions];
        IntPtr ctx = IntPtr.Zero, m = IntPtr.Zero, mont = IntPtr.Zero, one = IntPtr.Zero, acc = IntPtr.Zero, run = IntPtr.Zero, r = IntPtr.Zero;
        try
        {
            ctx = crypto.CtxNew();
            mont = crypto.MontNew();
            if (ctx == IntPtr.Zero || mont == IntPtr.Zero)
            {
                throw new CryptographicException("BN_CTX_new or BN_MONT_CTX_new failed.");
            }
            m = crypto.ToBn(modulus);
            LibCrypto.Check(crypto.MontSet(mont, m, ctx), "BN_MONT_CTX_set");
            one = crypto.ToBn(BigInteger.One);
            LibCrypto.Check(crypto.ToMont(one, one, mont, ctx), "BN_to_montgomery");
            IntPtr reduced = crypto.ToBn(value.Mod(modulus));
            table[0] = reduced;
            LibCrypto.Check(crypto.ToMont(table[0], reduced, mont, ctx), "BN_to_montgomery");
            for (int j = 1; j < positions; j++)
            {
                table[j] = crypto.NewSecret();
                CheckCopy(crypto.Copy(table[j], table[j - 1]));
                for (int k = 0; k < FixedBaseDigitBits; k++)
                {
                    LibCrypto.Check(crypto.MontMul(table[j], table[j], table[j], mont, ctx), "BN_mod_mul_montgomery");
                }
            }
            acc = crypto.NewSecret();
            run = crypto.NewSecret();
            r = crypto.NewSecret();
            int[] digits = new int[positions];
            for (int i = 0; i < results.Length; i++)
            {
                FillDigits(exponents[i], digits);
                CheckCopy(crypto.Copy(acc, one));
                CheckCopy(crypto.Copy(run, one));
                for (int d = (1 << FixedBaseDigitBits) - 1; d >= 1; d--)
                {
                    for (int j = 0; j < positions; j++)
                    {
                        if (digits[j] == d)
                        {
                            LibCrypto.Check(crypto.MontMul(run, run, table[j], mont, ctx), "BN_mod_mul_montgomery");
                        }
                    }
                    LibCrypto.Check(crypto.MontMul(acc, acc, run, mont, ctx), "BN_mod_mul_montgomery");
                }
                LibCrypto.Check(crypto.FromMont(r, acc, mont, ctx), "BN_from_montgomery");
                results[i] = crypto.FromBn(r);
            }
            return results;
        }
        finally
        {
            foreach (IntPtr entry in table)
            {
                crypto.BnClearFree(entry);
            }
            crypto.BnClearFree(one);
            crypto.BnClearFree(acc);
            crypto.BnClearFree(run);
            crypto.BnClearFree(r);
            crypto.BnClearFree(m);
            if (mont != IntPtr.Zero)
            {
                crypto.MontFree(mont);
            }
            crypto.CtxFree(ctx);
        }
    }

    private static void CheckCopy(IntPtr copied)
    {
        if (copied == IntPtr.Zero)
        {
            throw new CryptographicException("BN_copy failed.");
        }
    }

    /// <summary>The exponent's 6-bit digits, least significant first; positions past its length are zero.</summary>
    private static void FillDigits(BigInteger exponent, int[] digits)
    {
        byte[] bytes = exponent.ToByteArrayUnsigned();
        int bits = bytes.Length * 8;
        for (int j = 0; j < digits.Length; j++)
        {
            int digit = 0;
            for (int k = 0; k < FixedBaseDigitBits; k++)
            {
                int bit = j * FixedBaseDigitBits + k;
                if (bit < bits && (bytes[bytes.Length - 1 - bit / 8] >> (bit % 8) & 1) == 1)
                {
                    digit |= 1 << k;
                }
            }
            digits[j] = digit;
        }
    }
}
