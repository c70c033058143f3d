using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// The libcrypto 3 BIGNUM functions the OpenSSL backend and its Paillier decryption context call, bound once
/// at load. OpenSSL 3's <c>BN_div</c> (and so <c>BN_mod</c>, <c>BN_mod_mul</c>) runs in time independent of the
/// values for given operand lengths; <c>BN_FLG_CONSTTIME</c> additionally makes <c>BN_MONT_CTX_set</c> and
/// <c>BN_mod_inverse</c> take their constant-time paths.
/// </summary>
internal sealed unsafe class LibCrypto
{
    public const int FlagConstTime = 0x04;

    public readonly delegate* unmanaged<IntPtr> BnNew;
    public readonly delegate* unmanaged<IntPtr, void> BnClearFree;
    public readonly delegate* unmanaged<byte*, int, IntPtr, IntPtr> BnBin2Bn;
    public readonly delegate* unmanaged<IntPtr, byte*, int> BnBn2Bin;
    public readonly delegate* unmanaged<IntPtr, int> BnNumBits;
    public readonly delegate* unmanaged<IntPtr, int, void> BnSetFlags;
    public readonly delegate* unmanaged<IntPtr> CtxNew;
    public readonly delegate* unmanaged<IntPtr, void> CtxFree;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int> ModExpConstTime;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int> ModExpConstTimeX2;
    public readonly delegate* unmanaged<IntPtr, int, int, IntPtr, IntPtr, IntPtr, int> GeneratePrime;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, int> CheckPrime;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int> ModMul;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int> Div;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, int> Mul;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, int> UAdd;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, int> USub;
    public readonly delegate* unmanaged<IntPtr, int> IsZero;
    public readonly delegate* unmanaged<IntPtr, int> IsOne;
    public readonly delegate* unmanaged<IntPtr> MontNew;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, int> MontSet;
    public readonly delegate* unmanaged<IntPtr, void> MontFree;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int> MontMul;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, int> ToMont;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, int> FromMont;
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr> Copy;

    public LibCrypto(IntPtr library)
    {
        BnNew = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(library, "BN_new");
        BnClearFree = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(library, "BN_clear_free");
        BnBin2Bn = (delegate* unmanaged<byte*, int, IntPtr, IntPtr>)NativeLibrary.GetExport(library, "BN_bin2bn");
        BnBn2Bin = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibrary.GetExport(library, "BN_bn2bin");
        BnNumBits = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "BN_num_bits");
        BnSetFlags = (delegate* unmanaged<IntPtr, int, void>)NativeLibrary.GetExport(library, "BN_set_flags");
        CtxNew = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(library, "BN_CTX_new");
        CtxFree = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(library, "BN_CTX_free");
        ModExpConstTime = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int>)
            NativeLibrary.GetExport(library, "BN_mod_exp_mont_consttime");
        ModExpConstTimeX2 = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int>)
            NativeLibrary.GetExport(library, "BN_mod_exp_mont_consttime_x2");
        GeneratePrime = (delegate* unmanaged<IntPtr, int, int, IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_generate_prime_ex");
        CheckPrime = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_check_prime");
        ModMul = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_mod_mul");
        Div = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_div");
        Mul = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_mul");
        UAdd = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_uadd");
        USub = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_usub");
        IsZero = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "BN_is_zero");
        IsOne = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "BN_is_one");
        MontNew = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(library, "BN_MONT_CTX_new");
        MontSet = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_MONT_CTX_set");
        MontFree = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(library, "BN_MONT_CTX_free");
        MontMul = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_mod_mul_montgomery");
        ToMont = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_to_montgomery");
        FromMont = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "BN_from_montgomery");
        Copy = (delegate* unmanaged<IntPtr, IntPtr, IntPtr>)NativeLibrary.GetExport(library, "BN_copy");
    }

    /// <summary>A new BIGNUM holding <paramref name="value"/> (≥ 0), marked constant-time; the byte copy is wiped.</summary>
    public IntPtr ToBn(BigInteger value)
    {
        byte[] bytes = value.ToByteArrayUnsigned();
        try
        {
            fixed (byte* ptr = bytes)
            {
                IntPtr bn = BnBin2Bn(ptr, bytes.Length, IntPtr.Zero);
                if (bn == IntPtr.Zero)
                {
                    throw new CryptographicException("BN_bin2bn failed.");
                }
                BnSetFlags(bn, FlagConstTime);
                return bn;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>An empty BIGNUM marked constant-time, for results.</summary>
    public IntPtr NewSecret()
    {
        IntPtr bn = BnNew();
        if (bn == IntPtr.Zero)
        {
            throw new CryptographicException("BN_new failed.");
        }
        BnSetFlags(bn, FlagConstTime);
        return bn;
    }

    public BigInteger FromBn(IntPtr bn)
    {
        int length = (BnNumBits(bn) + 7) / 8;
        if (length == 0)
        {
            return BigInteger.Zero;
        }
        byte[] bytes = new byte[length];
        try
        {
            fixed (byte* ptr = bytes)
            {
                BnBn2Bin(bn, ptr);
            }
            return new BigInteger(1, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>A BN_CTX and a Montgomery context for <paramref name="modulus"/> (marked constant-time before the set-up).</summary>
    public MontgomeryModulus OpenMontgomery(BigInteger modulus) => new(this, modulus);

    /// <summary>Throws when BN_copy reported failure (null).</summary>
    public static void CheckCopy(IntPtr copied)
    {
        if (copied == IntPtr.Zero)
        {
            throw new CryptographicException("BN_copy failed.");
        }
    }

    /// <summary>Throws when an OpenSSL call reported failure (0); the name says which.</summary>
    public static void Check(int result, string function)
    {
        if (result != 1)
        {
            throw new CryptographicException($"{function} failed.");
        }
    }
}

/// <summary>One modulus set up for Montgomery multiplication: its BIGNUM, a BN_CTX and the BN_MONT_CTX; freed together.</summary>
internal sealed unsafe class MontgomeryModulus : IDisposable
{
    private readonly LibCrypto _crypto;

    public MontgomeryModulus(LibCrypto crypto, BigInteger modulus)
    {
        _crypto = crypto;
        try
        {
            Ctx = crypto.CtxNew();
            Mont = crypto.MontNew();
            if (Ctx == IntPtr.Zero || Mont == IntPtr.Zero)
            {
                throw new CryptographicException("BN_CTX_new or BN_MONT_CTX_new failed.");
            }
            Modulus = crypto.ToBn(modulus);
            LibCrypto.Check(crypto.MontSet(Mont, Modulus, Ctx), "BN_MONT_CTX_set");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public IntPtr Ctx { get; }

    public IntPtr Mont { get; }

    public IntPtr Modulus { get; }

    /// <summary>target = target·factor in Montgomery form.</summary>
    public void MultiplyInto(IntPtr target, IntPtr factor) =>
        LibCrypto.Check(_crypto.MontMul(target, target, factor, Mont, Ctx), "BN_mod_mul_montgomery");

    public void Dispose()
    {
        _crypto.BnClearFree(Modulus);
        if (Mont != IntPtr.Zero)
        {
            _crypto.MontFree(Mont);
        }
        _crypto.CtxFree(Ctx);
    }
}
