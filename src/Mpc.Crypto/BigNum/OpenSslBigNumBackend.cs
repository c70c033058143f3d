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
            a = _crypto.ToBn(NonNegative(value, modulus));
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
    /// set-up takes OpenSSL's constant-time path) serve every power. The powers go two at a time through
    /// <c>BN_mod_exp_mont_consttime_x2</c>: for a 1024-bit modulus and full-length operands (a Blum prime's batches in
    /// Πmod, the CRT halves of Πprm) libcrypto runs the pair side by side with AVX-512 IFMA where the CPU has it, about
    /// 2.3× the speed of two single powers on this project's machines (<c>openssl speed rsa2048</c> with and without
    /// IFMA); for anything else it computes the two one after the other, as <see cref="ModPow"/> would. Bases are
    /// reduced first in OpenSSL's constant-time division (the fast path wants them below the modulus). Operands are
    /// marked constant-time and cleared when freed.
    /// </remarks>
    public unsafe BigInteger[] ModPowMany(IReadOnlyList<BigInteger> values, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        BigNumGuards.CheckModPowManyArguments(values, exponents, modulus);
        var results = new BigInteger[values.Count];
        if (results.Length == 0)
        {
            return results;
        }
        using MontgomeryModulus montgomery = _crypto.OpenMontgomery(modulus);
        IntPtr ctx = montgomery.Ctx, m = montgomery.Modulus, mont = montgomery.Mont, r = IntPtr.Zero;
        try
        {
            r = _crypto.NewSecret();
            var ops = new SecretBigNums(_crypto);
            int i = 0;
            for (; i + 1 < results.Length; i += 2)
            {
                var temporaries = new SecretTemporaries(_crypto);
                try
                {
                    IntPtr a1 = temporaries.Add(ops.Remainder(temporaries.Add(_crypto.ToBn(NonNegative(values[i], modulus))), m, ctx));
                    IntPtr a2 = temporaries.Add(ops.Remainder(temporaries.Add(_crypto.ToBn(NonNegative(values[i + 1], modulus))), m, ctx));
                    IntPtr p1 = temporaries.Add(_crypto.ToBn(exponents[i]));
                    IntPtr p2 = temporaries.Add(_crypto.ToBn(exponents[i + 1]));
                    IntPtr r2 = temporaries.Add(_crypto.NewSecret());
                    LibCrypto.Check(_crypto.ModExpConstTimeX2(r, a1, p1, m, mont, r2, a2, p2, m, mont, ctx), "BN_mod_exp_mont_consttime_x2");
                    results[i] = _crypto.FromBn(r);
                    results[i + 1] = _crypto.FromBn(r2);
                }
                finally
                {
                    temporaries.Free();
                }
            }
            if (i < results.Length)
            {
                IntPtr a = IntPtr.Zero, p = IntPtr.Zero;
                try
                {
                    a = _crypto.ToBn(NonNegative(values[i], modulus));
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
        }
    }

    /// <summary>A non-negative base goes to OpenSSL unreduced, so its reduction runs in OpenSSL's constant-time division.</summary>
    private static BigInteger NonNegative(BigInteger value, BigInteger modulus) => value.SignValue >= 0 ? value : value.Mod(modulus);

    /// <remarks>Yao's fixed-base method for public values only; see <see cref="OpenSslFixedBasePowers"/>.</remarks>
    public BigInteger[] PublicFixedBasePowMany(BigInteger value, IReadOnlyList<BigInteger> exponents, BigInteger modulus) =>
        OpenSslFixedBasePowers.Compute(_crypto, value, exponents, modulus);

    /// <remarks>Pippenger's bucket method for public values only; see <see cref="OpenSslProductOfPowers"/>.</remarks>
    public BigInteger PublicProductOfPowers(IReadOnlyList<BigInteger> values, IReadOnlyList<BigInteger> exponents, BigInteger modulus) =>
        OpenSslProductOfPowers.Compute(_crypto, values, exponents, modulus);

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
