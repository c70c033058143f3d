using System.Runtime.InteropServices;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// The native steps of the Paillier secret-key arithmetic: every result is a fresh BIGNUM marked
/// <c>BN_FLG_CONSTTIME</c> (<see cref="LibCrypto.NewSecret"/>) that the caller owns and frees with BN_clear_free;
/// reductions and quotients go through OpenSSL's constant-time division, inverses through Fermat.
/// </summary>
internal sealed unsafe class SecretBigNums(LibCrypto crypto)
{
    /// <summary>
    /// x = a_Q + Q·(((a_P - a_Q) · Q⁻¹) mod P) for a_P ∈ [0, P), a_Q ∈ [0, Q). The difference is taken as
    /// a_P + P - (a_Q mod P), which is positive, so no branch depends on which residue is larger.
    /// </summary>
    public IntPtr Garner(IntPtr aP, IntPtr aQ, IntPtr modP, IntPtr modQ, IntPtr qInverseModP, IntPtr ctx, SecretTemporaries temporaries)
    {
        IntPtr aQModP = temporaries.Add(Remainder(aQ, modP, ctx));
        IntPtr sum = temporaries.Add(crypto.NewSecret());
        IntPtr difference = temporaries.Add(crypto.NewSecret());
        LibCrypto.Check(crypto.UAdd(sum, aP, modP), "BN_uadd");
        LibCrypto.Check(crypto.USub(difference, sum, aQModP), "BN_usub");
        IntPtr h = temporaries.Add(ModMul(difference, qInverseModP, modP, ctx));
        IntPtr product = temporaries.Add(Product(modQ, h, ctx));
        IntPtr result = crypto.NewSecret();
        if (crypto.UAdd(result, product, aQ) != 1)
        {
            crypto.BnClearFree(result);
            throw new System.Security.Cryptography.CryptographicException("BN_uadd failed.");
        }
        return result;
    }

    public bool IsUnitModulo(IntPtr value, IntPtr prime, IntPtr ctx)
    {
        IntPtr residue = Remainder(value, prime, ctx);
        try
        {
            return crypto.IsZero(residue) == 0;
        }
        finally
        {
            crypto.BnClearFree(residue);
        }
    }

    public IntPtr FermatInverse(IntPtr value, IntPtr prime, IntPtr primeMinus2, IntPtr ctx)
    {
        IntPtr reduced = Remainder(value, prime, ctx);
        IntPtr inverse = crypto.NewSecret();
        IntPtr check = IntPtr.Zero;
        try
        {
            LibCrypto.Check(crypto.ModExpConstTime(inverse, reduced, primeMinus2, prime, ctx, IntPtr.Zero), "BN_mod_exp_mont_consttime");
            check = ModMul(reduced, inverse, prime, ctx);
            if (crypto.IsOne(check) == 0)
            {
                // Only a composite "prime" (a forged or corrupted key) gets here; the value is not named.
                throw Error.Of(MpcErrorCode.InvalidPaillierModulus, "Paillier secret primes are not coprime primes.");
            }
            return inverse;
        }
        catch
        {
            crypto.BnClearFree(inverse);
            throw;
        }
        finally
        {
            crypto.BnClearFree(reduced);
            crypto.BnClearFree(check);
        }
    }

    public IntPtr ModPhiOfSquare(IntPtr n, IntPtr prime, IntPtr primeMinus1, IntPtr ctx)
    {
        IntPtr phi = Product(prime, primeMinus1, ctx);
        try
        {
            return Remainder(n, phi, ctx);
        }
        finally
        {
            crypto.BnClearFree(phi);
        }
    }

    public IntPtr Difference(IntPtr larger, IntPtr smaller)
    {
        IntPtr result = crypto.NewSecret();
        if (crypto.USub(result, larger, smaller) != 1)
        {
            crypto.BnClearFree(result);
            throw new System.Security.Cryptography.CryptographicException("BN_usub failed.");
        }
        return result;
    }

    public IntPtr Remainder(IntPtr value, IntPtr modulus, IntPtr ctx) => Divide(value, modulus, ctx, quotient: false);

    public IntPtr Quotient(IntPtr value, IntPtr divisor, IntPtr ctx) => Divide(value, divisor, ctx, quotient: true);

    public IntPtr Divide(IntPtr value, IntPtr divisor, IntPtr ctx, bool quotient)
    {
        IntPtr result = crypto.NewSecret();
        int ok = quotient
            ? crypto.Div(result, IntPtr.Zero, value, divisor, ctx)
            : crypto.Div(IntPtr.Zero, result, value, divisor, ctx);
        if (ok != 1)
        {
            crypto.BnClearFree(result);
            throw new System.Security.Cryptography.CryptographicException("BN_div failed.");
        }
        return result;
    }

    public IntPtr ModMul(IntPtr a, IntPtr b, IntPtr modulus, IntPtr ctx)
    {
        IntPtr result = crypto.NewSecret();
        if (crypto.ModMul(result, a, b, modulus, ctx) != 1)
        {
            crypto.BnClearFree(result);
            throw new System.Security.Cryptography.CryptographicException("BN_mod_mul failed.");
        }
        return result;
    }

    public IntPtr Product(IntPtr a, IntPtr b, IntPtr ctx)
    {
        IntPtr result = crypto.NewSecret();
        if (crypto.Mul(result, a, b, ctx) != 1)
        {
            crypto.BnClearFree(result);
            throw new System.Security.Cryptography.CryptographicException("BN_mul failed.");
        }
        return result;
    }

    public IntPtr Montgomery(IntPtr modulus, IntPtr ctx)
    {
        IntPtr mont = crypto.MontNew();
        // The modulus carries BN_FLG_CONSTTIME, so BN_MONT_CTX_set inverts its low word without branching.
        if (mont == IntPtr.Zero || crypto.MontSet(mont, modulus, ctx) != 1)
        {
            crypto.MontFree(mont);
            throw new System.Security.Cryptography.CryptographicException("BN_MONT_CTX_set failed.");
        }
        return mont;
    }
}

/// <summary>The intermediate BIGNUMs of one call, wiped and freed together.</summary>
internal sealed unsafe class SecretTemporaries(LibCrypto crypto)
{
    private readonly List<IntPtr> _values = new(16);

    public IntPtr Add(IntPtr value)
    {
        _values.Add(value);
        return value;
    }

    public void Free()
    {
        foreach (IntPtr value in _values)
        {
            crypto.BnClearFree(value);
        }
        _values.Clear();
    }
}
