using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// Constant-time modular exponentiation and prime generation through the system's OpenSSL libcrypto
/// (<c>BN_mod_exp_mont_consttime</c>, <c>BN_generate_prime_ex</c>), and Paillier decryption entirely inside
/// libcrypto (<see cref="OpenSslPaillierDecryptionContext"/>). Loaded at run time; where libcrypto is missing,
/// <see cref="BigNumBackends"/> may choose <see cref="ManagedBigNumBackend"/>, which the server refuses unless named.
/// </summary>
public sealed class OpenSslBigNumBackend : IBigNumBackend
{
    private readonly LibCrypto _crypto;

    private OpenSslBigNumBackend(IntPtr library) => _crypto = new LibCrypto(library);

    public string Name => "openssl";

    public bool IsConstantTime => true;

    /// <summary>Loads libcrypto 3 and checks it computes correctly; false (with a reason) when it cannot be used.</summary>
    public static bool TryCreate([NotNullWhen(true)] out IBigNumBackend? backend, [NotNullWhen(false)] out string? reason)
    {
        backend = null;
        if (!OpenSslLibrary.TryLoad(out IntPtr library))
        {
            reason = $"none of {string.Join(", ", OpenSslLibrary.Names)} could be loaded";
            return false;
        }
        try
        {
            var candidate = new OpenSslBigNumBackend(library);
            // 3^5 mod 7 = 5: a wrong binding fails here rather than in a signature.
            if (!candidate.ModPow(BigInteger.Three, BigInteger.ValueOf(5), BigInteger.ValueOf(7)).Equals(BigInteger.ValueOf(5)))
            {
                reason = "self-test failed";
                return false;
            }
            backend = candidate;
            reason = null;
            return true;
        }
        catch (EntryPointNotFoundException e)
        {
            reason = $"libcrypto lacks a required function ({e.Message})";
            return false;
        }
    }

    /// <remarks>
    /// Every operand is marked <c>BN_FLG_CONSTTIME</c> and a non-negative base is handed over unreduced, so the
    /// reduction runs in OpenSSL's constant-time division rather than BouncyCastle's.
    /// </remarks>
    public unsafe BigInteger ModPow(BigInteger value, BigInteger exponent, BigInteger modulus)
    {
        BigNumGuards.CheckModPowArguments(exponent, modulus);
        IntPtr ctx = IntPtr.Zero, a = IntPtr.Zero, p = IntPtr.Zero, m = IntPtr.Zero, r = IntPtr.Zero;
        try
        {
            ctx = _crypto.CtxNew();
            a = _crypto.ToBn(value.SignValue >= 0 ? value : value.Mod(modulus));
            p = _crypto.ToBn(exponent);
            m = _crypto.ToBn(modulus);
            r = _crypto.NewSecret();
            if (ctx == IntPtr.Zero || _crypto.ModExpConstTime(r, a, p, m, ctx, IntPtr.Zero) != 1)
            {
                throw new CryptographicException("BN_mod_exp_mont_consttime failed.");
            }
            return _crypto.FromBn(r);
        }
        finally
        {
            _crypto.BnClearFree(a);
            _crypto.BnClearFree(p);
            _crypto.BnClearFree(m);
            _crypto.BnClearFree(r);
            _crypto.CtxFree(ctx);
        }
    }

    /// <remarks>
    /// One BN_CTX and one Montgomery context for the modulus (built from a constant-time BIGNUM, so a secret prime's
    /// set-up takes OpenSSL's constant-time path) serve every power; each power is <c>BN_mod_exp_mont_consttime</c>
    /// with that context, as in <see cref="ModPow"/>. Operands are marked constant-time and cleared when freed.
    /// </remarks>
    public unsafe BigInteger[] ModPowMany(IReadOnlyList<BigInteger> values, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        BigNumGuards.CheckModPowManyArguments(values, exponents, modulus);
        var results = new BigInteger[values.Count];
        if (results.Length == 0)
        {
            return results;
        }
        IntPtr ctx = IntPtr.Zero, m = IntPtr.Zero, mont = IntPtr.Zero, r = IntPtr.Zero;
        try
        {
            ctx = _crypto.CtxNew();
            m = _crypto.ToBn(modulus);
            mont = _crypto.MontNew();
            r = _crypto.NewSecret();
            if (ctx == IntPtr.Zero || mont == IntPtr.Zero)
            {
                throw new CryptographicException("BN_CTX_new or BN_MONT_CTX_new failed.");
            }
            LibCrypto.Check(_crypto.MontSet(mont, m, ctx), "BN_MONT_CTX_set");
            for (int i = 0; i < results.Length; i++)
            {
                IntPtr a = IntPtr.Zero, p = IntPtr.Zero;
                try
                {
                    BigInteger value = values[i];
                    a = _crypto.ToBn(value.SignValue >= 0 ? value : value.Mod(modulus));
                    p = _crypto.ToBn(exponents[i]);
                    LibCrypto.Check(_crypto.ModExpConstTime(r, a, p, m, ctx, mont), "BN_mod_exp_mont_consttime");
                    results[i] = _crypto.FromBn(r);
                }
                finally
                {
                    _crypto.BnClearFree(a);
                    _crypto.BnClearFree(p);
                }
            }
            return results;
        }
        finally
        {
            _crypto.BnClearFree(r);
            _crypto.BnClearFree(m);
            if (mont != IntPtr.Zero)
            {
                _crypto.MontFree(mont);
            }
            _crypto.CtxFree(ctx);
        }
    }

    /// <summary>Bits per digit of <see cref="PublicFixedBasePowMany"/>: ⌈L/6⌉ + 63 multiplications per power, near the minimum for L = 2048.</summary>
    private const int FixedBaseDigitBits = 6;

    /// <remarks>
    /// Yao's fixed-base method: T_j = value^(2^(6j)) in Montgomery form for each 6-bit digit position (one chain of
    /// squarings per call), then value^e = ∏_{d=63..1} (∏_{j: e_j ≥ d} T_j), about L/6 + 63 Montgomery multiplications
    /// per power instead of the L squarings of a full exponentiation. It branches on the exponents' digits and is
    /// must never see a secret: callers pass public values only (a verifier's t and the prover's responses).
    /// </remarks>
    public unsafe BigInteger[] PublicFixedBasePowMany(BigInteger value, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
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
            ctx = _crypto.CtxNew();
            mont = _crypto.MontNew();
            if (ctx == IntPtr.Zero || mont == IntPtr.Zero)
            {
                throw new CryptographicException("BN_CTX_new or BN_MONT_CTX_new failed.");
            }
            m = _crypto.ToBn(modulus);
            LibCrypto.Check(_crypto.MontSet(mont, m, ctx), "BN_MONT_CTX_set");
            one = _crypto.ToBn(BigInteger.One);
            LibCrypto.Check(_crypto.ToMont(one, one, mont, ctx), "BN_to_montgomery");
            IntPtr reduced = _crypto.ToBn(value.Mod(modulus));
            table[0] = reduced;
            LibCrypto.Check(_crypto.ToMont(table[0], reduced, mont, ctx), "BN_to_montgomery");
            for (int j = 1; j < positions; j++)
            {
                table[j] = _crypto.NewSecret();
                CheckCopy(_crypto.Copy(table[j], table[j - 1]));
                for (int k = 0; k < FixedBaseDigitBits; k++)
                {
                    LibCrypto.Check(_crypto.MontMul(table[j], table[j], table[j], mont, ctx), "BN_mod_mul_montgomery");
                }
            }
            acc = _crypto.NewSecret();
            run = _crypto.NewSecret();
            r = _crypto.NewSecret();
            int[] digits = new int[positions];
            for (int i = 0; i < results.Length; i++)
            {
                FillDigits(exponents[i], digits);
                CheckCopy(_crypto.Copy(acc, one));
                CheckCopy(_crypto.Copy(run, one));
                for (int d = (1 << FixedBaseDigitBits) - 1; d >= 1; d--)
                {
                    for (int j = 0; j < positions; j++)
                    {
                        if (digits[j] == d)
                        {
                            LibCrypto.Check(_crypto.MontMul(run, run, table[j], mont, ctx), "BN_mod_mul_montgomery");
                        }
                    }
                    LibCrypto.Check(_crypto.MontMul(acc, acc, run, mont, ctx), "BN_mod_mul_montgomery");
                }
                LibCrypto.Check(_crypto.FromMont(r, acc, mont, ctx), "BN_from_montgomery");
                results[i] = _crypto.FromBn(r);
            }
            return results;
        }
        finally
        {
            foreach (IntPtr entry in table)
            {
                _crypto.BnClearFree(entry);
            }
            _crypto.BnClearFree(one);
            _crypto.BnClearFree(acc);
            _crypto.BnClearFree(run);
            _crypto.BnClearFree(r);
            _crypto.BnClearFree(m);
            if (mont != IntPtr.Zero)
            {
                _crypto.MontFree(mont);
            }
            _crypto.CtxFree(ctx);
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

    public unsafe BigInteger ModMultiply(BigInteger value, BigInteger factor, BigInteger modulus)
    {
        if (modulus.SignValue <= 0 || value.SignValue < 0 || factor.SignValue < 0)
        {
            throw new ArgumentException("ModMultiply takes non-negative operands and a positive modulus.");
        }
        IntPtr ctx = IntPtr.Zero, a = IntPtr.Zero, b = IntPtr.Zero, m = IntPtr.Zero, r = IntPtr.Zero;
        try
        {
            ctx = _crypto.CtxNew();
            a = _crypto.ToBn(value);
            b = _crypto.ToBn(factor);
            m = _crypto.ToBn(modulus);
            r = _crypto.NewSecret();
            if (ctx == IntPtr.Zero || _crypto.ModMul(r, a, b, m, ctx) != 1)
            {
                throw new CryptographicException("BN_mod_mul failed.");
            }
            return _crypto.FromBn(r);
        }
        finally
        {
            _crypto.BnClearFree(a);
            _crypto.BnClearFree(b);
            _crypto.BnClearFree(m);
            _crypto.BnClearFree(r);
            _crypto.CtxFree(ctx);
        }
    }

    IPaillierDecryptionContext IBigNumBackend.CreateDecryptionContext(BigInteger p, BigInteger q) =>
        new OpenSslPaillierDecryptionContext(_crypto, p, q);

    public BigInteger GeneratePrime(int bits, bool blum)
    {
        BigNumGuards.CheckPrimeBits(bits);
        while (true)
        {
            // Without add/rem OpenSSL sets the top two bits (so p·q has exactly 2·bits bits);
            // with add=4 it sets only one, so ask for the residue by rejection instead.
            BigInteger prime = Generate(bits, safe: false);
            if (!blum || prime.TestBit(1))
            {
                return prime;
            }
        }
    }

    public BigInteger GenerateSafePrime(int bits)
    {
        BigNumGuards.CheckPrimeBits(bits);
        return Generate(bits, safe: true);
    }

    public unsafe bool IsProbablePrime(BigInteger candidate)
    {
        if (candidate.SignValue <= 0)
        {
            return false;
        }
        IntPtr ctx = IntPtr.Zero, bn = IntPtr.Zero;
        try
        {
            ctx = _crypto.CtxNew();
            bn = _crypto.ToBn(candidate);
            int result = _crypto.CheckPrime(bn, ctx, IntPtr.Zero);
            return result switch
            {
                1 => true,
                0 => false,
                _ => throw new CryptographicException("BN_check_prime failed."),
            };
        }
        finally
        {
            _crypto.BnClearFree(bn);
            _crypto.CtxFree(ctx);
        }
    }

    private unsafe BigInteger Generate(int bits, bool safe)
    {
        IntPtr bn = _crypto.NewSecret();
        try
        {
            if (_crypto.GeneratePrime(bn, bits, safe ? 1 : 0, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero) != 1)
            {
                throw new CryptographicException("BN_generate_prime_ex failed.");
            }
            return _crypto.FromBn(bn);
        }
        finally
        {
            _crypto.BnClearFree(bn);
        }
    }
}

/// <summary>Finds the system's OpenSSL 3 libcrypto under its platform name.</summary>
internal static class OpenSslLibrary
{
    public static readonly string[] Names = OperatingSystem.IsWindows()
        ? ["libcrypto-3-x64.dll", "libcrypto-3.dll"]
        : OperatingSystem.IsMacOS()
            ? ["libcrypto.3.dylib", "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib", "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib"]
            : ["libcrypto.so.3", "libcrypto.so"];

    public static bool TryLoad(out IntPtr library)
    {
        foreach (string name in Names)
        {
            if (NativeLibrary.TryLoad(name, typeof(OpenSslLibrary).Assembly, null, out library))
            {
                return true;
            }
        }
        library = IntPtr.Zero;
        return false;
    }
}
