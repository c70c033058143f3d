using System.Runtime.InteropServices;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// Paillier secret-key arithmetic entirely inside libcrypto, for g = N + 1 and N = p·q:
/// m_p = L_p(c^(p-1) mod p²)·h_p mod p (and the same for q), recombined by Garner's CRT. Every value derived
/// from p and q lives in native BIGNUMs marked <c>BN_FLG_CONSTTIME</c>, the Montgomery contexts for p² and q²
/// are built once here, and the client-chosen ciphertext is reduced modulo the secret moduli by OpenSSL's
/// constant-time division, never by BouncyCastle. The inverses are computed by Fermat through the
/// constant-time exponentiation, so not even loading a key runs a variable-time routine on p or q.
/// </summary>
internal sealed unsafe class OpenSslPaillierDecryptionContext : IPaillierDecryptionContext
{
    private readonly LibCrypto _crypto;
    private readonly SecretBigNums _ops;
    private readonly PaillierNativeKey _key;

    public OpenSslPaillierDecryptionContext(LibCrypto crypto, BigInteger p, BigInteger q)
    {
        _crypto = crypto;
        _ops = new SecretBigNums(crypto);
        _key = PaillierNativeKey.Create(crypto, p, q);
    }

    public bool IsUnit(BigInteger ciphertext)
    {
        using Lease lease = Acquire();
        IntPtr c = _crypto.ToBn(ciphertext);
        try
        {
            return _ops.IsUnitModulo(c, _key.P, lease.Ctx) && _ops.IsUnitModulo(c, _key.Q, lease.Ctx);
        }
        finally
        {
            _crypto.BnClearFree(c);
        }
    }

    public BigInteger Decrypt(BigInteger ciphertext)
    {
        using Lease lease = Acquire();
        PaillierNativeKey k = _key;
        IntPtr ctx = lease.Ctx;
        var temporaries = new SecretTemporaries(_crypto);
        try
        {
            IntPtr c = temporaries.Add(_crypto.ToBn(ciphertext));
            IntPtr cp = temporaries.Add(_ops.Remainder(c, k.PSquared, ctx));
            IntPtr cq = temporaries.Add(_ops.Remainder(c, k.QSquared, ctx));
            return _crypto.FromBn(DecryptResidues(cp, cq, ctx, temporaries));
        }
        finally
        {
            temporaries.Free();
        }
    }

    public (BigInteger PlaintextModP, BigInteger ProductModP) DecryptProductModP(BigInteger a, BigInteger c, BigInteger e)
    {
        using Lease lease = Acquire();
        PaillierNativeKey k = _key;
        IntPtr ctx = lease.Ctx;
        var temporaries = new SecretTemporaries(_crypto);
        try
        {
            IntPtr aBn = temporaries.Add(_crypto.ToBn(a));
            IntPtr cBn = temporaries.Add(_crypto.ToBn(c));
            IntPtr exponent = temporaries.Add(_crypto.ToBn(e));
            IntPtr ap = temporaries.Add(_ops.Remainder(aBn, k.PSquared, ctx));
            IntPtr cp = temporaries.Add(_ops.Remainder(cBn, k.PSquared, ctx));
            // Each factor is checked on its own (the product alone would hide c when e = 0).
            if (!_ops.IsUnitModulo(ap, k.P, ctx) || !_ops.IsUnitModulo(cp, k.P, ctx))
            {
                throw Error.Of(MpcErrorCode.InvalidCiphertext, "ciphertext is not a unit modulo N².");
            }
            IntPtr tp = temporaries.Add(_crypto.NewSecret());
            LibCrypto.Check(_crypto.ModExpConstTime(tp, cp, exponent, k.PSquared, ctx, k.MontPSquared), "BN_mod_exp_mont_consttime");
            IntPtr yp = temporaries.Add(_ops.ModMul(ap, tp, k.PSquared, ctx));
            IntPtr xp = temporaries.Add(_crypto.NewSecret());
            LibCrypto.Check(_crypto.ModExpConstTime(xp, yp, k.PMinus1, k.PSquared, ctx, k.MontPSquared), "BN_mod_exp_mont_consttime");
            // x ≡ 1 (mod p) and x < p², so L(x) = (x - 1)/p = ⌊x/p⌋.
            IntPtr lp = temporaries.Add(_ops.Quotient(xp, k.P, ctx));
            IntPtr mp = temporaries.Add(_ops.ModMul(lp, k.Hp, k.P, ctx));
            IntPtr yModP = temporaries.Add(_ops.Remainder(yp, k.P, ctx));
            return (_crypto.FromBn(mp), _crypto.FromBn(yModP));
        }
        finally
        {
            temporaries.Free();
        }
    }

    public (BigInteger First, BigInteger Second) PowPairModP(BigInteger first, BigInteger firstExponent, BigInteger second, BigInteger secondExponent)
    {
        using Lease lease = Acquire();
        PaillierNativeKey k = _key;
        IntPtr ctx = lease.Ctx;
        var temporaries = new SecretTemporaries(_crypto);
        try
        {
            IntPtr v1 = temporaries.Add(_ops.Remainder(temporaries.Add(_crypto.ToBn(first)), k.P, ctx));
            IntPtr v2 = temporaries.Add(_ops.Remainder(temporaries.Add(_crypto.ToBn(second)), k.P, ctx));
            IntPtr e1 = temporaries.Add(_crypto.ToBn(firstExponent));
            IntPtr e2 = temporaries.Add(_crypto.ToBn(secondExponent));
            IntPtr r1 = temporaries.Add(_crypto.NewSecret());
            IntPtr r2 = temporaries.Add(_crypto.NewSecret());
            // Both powers in one call with the cached Montgomery context for p; for 1024-bit p and full-length exponents
            // (the reduced ones) libcrypto runs them side by side (AVX-512 IFMA where the CPU has it).
            LibCrypto.Check(_crypto.ModExpConstTimeX2(r1, v1, e1, k.P, k.MontP, r2, v2, e2, k.P, k.MontP, ctx),
                "BN_mod_exp_mont_consttime_x2");
            return (_crypto.FromBn(r1), _crypto.FromBn(r2));
        }
        finally
        {
            temporaries.Free();
        }
    }

    public BigInteger ReduceModP(BigInteger value)
    {
        using Lease lease = Acquire();
        IntPtr v = _crypto.ToBn(value);
        IntPtr r = IntPtr.Zero;
        try
        {
            r = _ops.Remainder(v, _key.P, lease.Ctx);
            return _crypto.FromBn(r);
        }
        finally
        {
            _crypto.BnClearFree(v);
            _crypto.BnClearFree(r);
        }
    }

    public BigInteger MultiplyModP(BigInteger left, BigInteger right)
    {
        using Lease lease = Acquire();
        IntPtr a = _crypto.ToBn(left), b = _crypto.ToBn(right);
        IntPtr r = IntPtr.Zero;
        try
        {
            r = _ops.ModMul(a, b, _key.P, lease.Ctx);
            return _crypto.FromBn(r);
        }
        finally
        {
            _crypto.BnClearFree(a);
            _crypto.BnClearFree(b);
            _crypto.BnClearFree(r);
        }
    }

    /// <summary>The plaintext of the ciphertext whose residues mod p² and q² are cp and cq (native, owned by temporaries).</summary>
    private IntPtr DecryptResidues(IntPtr cp, IntPtr cq, IntPtr ctx, SecretTemporaries temporaries)
    {
        PaillierNativeKey k = _key;
        // gcd(c, N) = 1 exactly when p ∤ c and q ∤ c; the residues mod p² and q² decide it cheaply.
        if (!_ops.IsUnitModulo(cp, k.P, ctx) || !_ops.IsUnitModulo(cq, k.Q, ctx))
        {
            throw Error.Of(MpcErrorCode.InvalidCiphertext, "ciphertext is not a unit modulo N².");
        }
        IntPtr xp = temporaries.Add(_crypto.NewSecret());
        IntPtr xq = temporaries.Add(_crypto.NewSecret());
        LibCrypto.Check(_crypto.ModExpConstTimeX2(xp, cp, k.PMinus1, k.PSquared, k.MontPSquared,
            xq, cq, k.QMinus1, k.QSquared, k.MontQSquared, ctx), "BN_mod_exp_mont_consttime_x2");
        // x ≡ 1 (mod p) and x < p², so L(x) = (x - 1)/p = ⌊x/p⌋.
        IntPtr lp = temporaries.Add(_ops.Quotient(xp, k.P, ctx));
        IntPtr lq = temporaries.Add(_ops.Quotient(xq, k.Q, ctx));
        IntPtr mp = temporaries.Add(_ops.ModMul(lp, k.Hp, k.P, ctx));
        IntPtr mq = temporaries.Add(_ops.ModMul(lq, k.Hq, k.Q, ctx));
        return temporaries.Add(_ops.Garner(mp, mq, k.P, k.Q, k.QInverseModP, ctx, temporaries));
    }

    public BigInteger NoncePower(BigInteger nonce)
    {
        using Lease lease = Acquire();
        PaillierNativeKey k = _key;
        IntPtr ctx = lease.Ctx;
        var temporaries = new SecretTemporaries(_crypto);
        try
        {
            IntPtr r = temporaries.Add(_crypto.ToBn(nonce));
            IntPtr rp = temporaries.Add(_ops.Remainder(r, k.PSquared, ctx));
            IntPtr rq = temporaries.Add(_ops.Remainder(r, k.QSquared, ctx));
            IntPtr xp = temporaries.Add(_crypto.NewSecret());
            IntPtr xq = temporaries.Add(_crypto.NewSecret());
            LibCrypto.Check(_crypto.ModExpConstTimeX2(xp, rp, k.NModPhiPSquared, k.PSquared, k.MontPSquared,
                xq, rq, k.NModPhiQSquared, k.QSquared, k.MontQSquared, ctx), "BN_mod_exp_mont_consttime_x2");
            IntPtr result = temporaries.Add(_ops.Garner(xp, xq, k.PSquared, k.QSquared, k.QSquaredInverseModPSquared, ctx, temporaries));
            return _crypto.FromBn(result);
        }
        finally
        {
            temporaries.Free();
        }
    }

    /// <summary>Frees and wipes every native value (BN_clear_free); calls in flight finish first.</summary>
    public void Dispose() => _key.Dispose();

    private Lease Acquire()
    {
        bool added = false;
        // Throws ObjectDisposedException once Dispose has run; otherwise keeps the native values alive until released.
        _key.DangerousAddRef(ref added);
        IntPtr ctx = _crypto.CtxNew();
        if (ctx == IntPtr.Zero)
        {
            _key.DangerousRelease();
            throw new System.Security.Cryptography.CryptographicException("BN_CTX_new failed.");
        }
        return new Lease(_key, _crypto, ctx);
    }

    /// <summary>One call's hold on the key (a SafeHandle reference) and its own BN_CTX (BN_CTX is not thread-safe).</summary>
    private readonly struct Lease(PaillierNativeKey key, LibCrypto crypto, IntPtr ctx) : IDisposable
    {
        public IntPtr Ctx => ctx;

        public void Dispose()
        {
            crypto.CtxFree(ctx);
            key.DangerousRelease();
        }
    }
}
