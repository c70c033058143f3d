using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// Constant-time modular exponentiation and prime generation through the system's OpenSSL libcrypto
/// (<c>BN_mod_exp_mont_consttime</c>, <c>BN_generate_prime_ex</c>). Loaded at run time so a machine
/// without libcrypto falls back to <see cref="ManagedBigNumBackend"/> instead of failing.
/// </summary>
public sealed unsafe class OpenSslBigNumBackend : IBigNumBackend
{
    private readonly delegate* unmanaged<IntPtr> _bnNew;
    private readonly delegate* unmanaged<IntPtr, void> _bnClearFree;
    private readonly delegate* unmanaged<byte*, int, IntPtr, IntPtr> _bnBin2Bn;
    private readonly delegate* unmanaged<IntPtr, byte*, int> _bnBn2Bin;
    private readonly delegate* unmanaged<IntPtr, int> _bnNumBits;
    private readonly delegate* unmanaged<IntPtr> _ctxNew;
    private readonly delegate* unmanaged<IntPtr, void> _ctxFree;
    private readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int> _modExpConstTime;
    private readonly delegate* unmanaged<IntPtr, int, int, IntPtr, IntPtr, IntPtr, int> _generatePrime;
    private readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, int> _checkPrime;
    private readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int> _modMul;

    private OpenSslBigNumBackend(IntPtr library)
    {
        _bnNew = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(library, "BN_new");
        _bnClearFree = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(library, "BN_clear_free");
        _bnBin2Bn = (delegate* unmanaged<byte*, int, IntPtr, IntPtr>)NativeLibrary.GetExport(library, "BN_bin2bn");
        _bnBn2Bin = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibrary.GetExport(library, "BN_bn2bin");
        _bnNumBits = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "BN_num_bits");
        _ctxNew = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(library, "BN_CTX_new");
        _ctxFree = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(library, "BN_CTX_free");
        _modExpConstTime = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int>)
            NativeLibrary.GetExport(library, "BN_mod_exp_mont_consttime");
        _generatePrime = (delegate* unmanaged<IntPtr, int, int, IntPtr, IntPtr, IntPtr, int>)
            NativeLibrary.GetExport(library, "BN_generate_prime_ex");
        _checkPrime = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_check_prime");
        _modMul = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_mod_mul");
    }

    public string Name => "openssl";

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

    public BigInteger ModPow(BigInteger value, BigInteger exponent, BigInteger modulus)
    {
        BigNumGuards.CheckModPowArguments(exponent, modulus);
        IntPtr ctx = IntPtr.Zero, a = IntPtr.Zero, p = IntPtr.Zero, m = IntPtr.Zero, r = IntPtr.Zero;
        try
        {
            ctx = _ctxNew();
            a = ToBn(value.Mod(modulus));
            p = ToBn(exponent);
            m = ToBn(modulus);
            r = _bnNew();
            if (ctx == IntPtr.Zero || r == IntPtr.Zero || _modExpConstTime(r, a, p, m, ctx, IntPtr.Zero) != 1)
            {
                throw new CryptographicException("BN_mod_exp_mont_consttime failed.");
            }
            return FromBn(r);
        }
        finally
        {
            _bnClearFree(a);
            _bnClearFree(p);
            _bnClearFree(m);
            _bnClearFree(r);
            _ctxFree(ctx);
        }
    }

    public BigInteger ModMultiply(BigInteger value, BigInteger factor, BigInteger modulus)
    {
        if (modulus.SignValue <= 0 || value.SignValue < 0 || factor.SignValue < 0)
        {
            throw new ArgumentException("ModMultiply takes non-negative operands and a positive modulus.");
        }
        IntPtr ctx = IntPtr.Zero, a = IntPtr.Zero, b = IntPtr.Zero, m = IntPtr.Zero, r = IntPtr.Zero;
        try
        {
            ctx = _ctxNew();
            a = ToBn(value);
            b = ToBn(factor);
            m = ToBn(modulus);
            r = _bnNew();
            if (ctx == IntPtr.Zero || r == IntPtr.Zero || _modMul(r, a, b, m, ctx) != 1)
            {
                throw new CryptographicException("BN_mod_mul failed.");
            }
            return FromBn(r);
        }
        finally
        {
            _bnClearFree(a);
            _bnClearFree(b);
            _bnClearFree(m);
            _bnClearFree(r);
            _ctxFree(ctx);
        }
    }

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

    public bool IsProbablePrime(BigInteger candidate)
    {
        if (candidate.SignValue <= 0)
        {
            return false;
        }
        IntPtr ctx = IntPtr.Zero, bn = IntPtr.Zero;
        try
        {
            ctx = _ctxNew();
            bn = ToBn(candidate);
            int result = _checkPrime(bn, ctx, IntPtr.Zero);
            return result switch
            {
                1 => true,
                0 => false,
                _ => throw new CryptographicException("BN_check_prime failed."),
            };
        }
        finally
        {
            _bnClearFree(bn);
            _ctxFree(ctx);
        }
    }

    private BigInteger Generate(int bits, bool safe)
    {
        IntPtr bn = _bnNew();
        try
        {
            if (bn == IntPtr.Zero || _generatePrime(bn, bits, safe ? 1 : 0, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero) != 1)
            {
                throw new CryptographicException("BN_generate_prime_ex failed.");
            }
            return FromBn(bn);
        }
        finally
        {
            _bnClearFree(bn);
        }
    }

    private IntPtr ToBn(BigInteger value)
    {
        byte[] bytes = value.ToByteArrayUnsigned();
        try
        {
            fixed (byte* ptr = bytes)
            {
                IntPtr bn = _bnBin2Bn(ptr, bytes.Length, IntPtr.Zero);
                return bn != IntPtr.Zero ? bn : throw new CryptographicException("BN_bin2bn failed.");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private BigInteger FromBn(IntPtr bn)
    {
        int length = (_bnNumBits(bn) + 7) / 8;
        if (length == 0)
        {
            return BigInteger.Zero;
        }
        byte[] bytes = new byte[length];
        try
        {
            fixed (byte* ptr = bytes)
            {
                _bnBn2Bin(bn, ptr);
            }
            return new BigInteger(1, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
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
