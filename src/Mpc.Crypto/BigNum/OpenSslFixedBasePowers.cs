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
        IntPtr one = IntPtr.Zero, acc = IntPtr.Zero, run = IntPtr.Zero, r = IntPtr.Zero;
        using MontgomeryModulus m = crypto.OpenMontgomery(modulus);
        try
        {
            one = crypto.ToBn(BigInteger.One);
            LibCrypto.Check(crypto.ToMont(one, one, m.Mont, m.Ctx), "BN_to_montgomery");
            IntPtr reduced = crypto.ToBn(value.Mod(modulus));
            table[0] = reduced;
            LibCrypto.Check(crypto.ToMont(table[0], reduced, m.Mont, m.Ctx), "BN_to_montgomery");
            for (int j = 1; j < positions; j++)
            {
                table[j] = crypto.NewSecret();
                LibCrypto.CheckCopy(crypto.Copy(table[j], table[j - 1]));
                for (int k = 0; k < FixedBaseDigitBits; k++)
                {
                    m.MultiplyInto(table[j], table[j]);
                }
            }
            acc = crypto.NewSecret();
            run = crypto.NewSecret();
            r = crypto.NewSecret();
            int[] digits = new int[positions];
            for (int i = 0; i < results.Length; i++)
            {
                FillDigits(exponents[i], digits);
                LibCrypto.CheckCopy(crypto.Copy(acc, one));
                LibCrypto.CheckCopy(crypto.Copy(run, one));
                for (int d = (1 << FixedBaseDigitBits) - 1; d >= 1; d--)
                {
                    for (int j = 0; j < positions; j++)
                    {
                        if (digits[j] == d)
                        {
                            m.MultiplyInto(run, table[j]);
                        }
                    }
                    m.MultiplyInto(acc, run);
                }
                LibCrypto.Check(crypto.FromMont(r, acc, m.Mont, m.Ctx), "BN_from_montgomery");
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
