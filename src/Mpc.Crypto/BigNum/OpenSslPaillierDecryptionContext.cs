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
    private readonly NativeKey _key;

    public OpenSslPaillierDecryptionContext(LibCrypto crypto, BigInteger p, BigInteger q)
    {
        _crypto = crypto;
        _key = new NativeKey(crypto);
        IntPtr ctx = crypto.CtxNew();
        IntPtr two = IntPtr.Zero, pMinus2 = IntPtr.Zero, qMinus2 = IntPtr.Zero, n = IntPtr.Zero;
        try
        {
            if (ctx == IntPtr.Zero)
            {
                throw new System.Security.Cryptography.CryptographicException("BN_CTX_new failed.");
            }
            NativeKey k = _key;
            k.P = crypto.ToBn(p);
            k.SetHandle();
            k.Q = crypto.ToBn(q);
            k.PMinus1 = crypto.ToBn(p.Subtract(BigInteger.One));
            k.QMinus1 = crypto.ToBn(q.Subtract(BigInteger.One));
            pMinus2 = crypto.ToBn(p.Subtract(BigInteger.Two));
            qMinus2 = crypto.ToBn(q.Subtract(BigInteger.Two));
            two = crypto.ToBn(BigInteger.Two);
            k.PSquared = Product(k.P, k.P, ctx);
            k.QSquared = Product(k.Q, k.Q, ctx);
            k.MontPSquared = Montgomery(k.PSquared, ctx);
            k.MontQSquared = Montgomery(k.QSquared, ctx);
            k.MontP = Montgomery(k.P, ctx);

            // q⁻¹ mod p and p⁻¹ mod q by Fermat; h_p = ((p-1)·q)⁻¹ = -q⁻¹ (mod p), h_q = -p⁻¹ (mod q).
            k.QInverseModP = FermatInverse(k.Q, k.P, pMinus2, ctx);
            IntPtr pInverseModQ = FermatInverse(k.P, k.Q, qMinus2, ctx);
            try
            {
                k.Hq = Difference(k.Q, pInverseModQ);
            }
            finally
            {
                crypto.BnClearFree(pInverseModQ);
            }
            k.Hp = Difference(k.P, k.QInverseModP);

            // (q²)⁻¹ mod p²: lift x = q⁻¹ mod p to y = x·(2 - q·x) mod p² (q·y ≡ 1 mod p²), then square.
            IntPtr qx = ModMul(k.Q, k.QInverseModP, k.PSquared, ctx);
            IntPtr twoPlusP2 = crypto.NewSecret(), factor = crypto.NewSecret(), lifted = IntPtr.Zero;
            try
            {
                LibCrypto.Check(crypto.UAdd(twoPlusP2, k.PSquared, two), "BN_uadd");
                LibCrypto.Check(crypto.USub(factor, twoPlusP2, qx), "BN_usub");
                lifted = ModMul(k.QInverseModP, factor, k.PSquared, ctx);
                k.QSquaredInverseModPSquared = ModMul(lifted, lifted, k.PSquared, ctx);
            }
            finally
            {
                crypto.BnClearFree(qx);
                crypto.BnClearFree(twoPlusP2);
                crypto.BnClearFree(factor);
                crypto.BnClearFree(lifted);
            }

            // N mod φ(p²) and N mod φ(q²): r^N mod p² = r^(N mod p(p-1)) mod p² for r coprime to p.
            n = Product(k.P, k.Q, ctx);
            k.NModPhiPSquared = ModPhiOfSquare(n, k.P, k.PMinus1, ctx);
            k.NModPhiQSquared = ModPhiOfSquare(n, k.Q, k.QMinus1, ctx);
        }
        catch
        {
            _key.Dispose();
            throw;
        }
        finally
        {
            crypto.BnClearFree(two);
            crypto.BnClearFree(pMinus2);
            crypto.BnClearFree(qMinus2);
            crypto.BnClearFree(n);
            crypto.CtxFree(ctx);
        }
    }

    public bool IsUnit(BigInteger ciphertext)
    {
        using Lease lease = Acquire();
        IntPtr c = _crypto.ToBn(ciphertext);
        try
        {
            return IsUnitModulo(c, _key.P, lease.Ctx) && IsUnitModulo(c, _key.Q, lease.Ctx);
        }
        finally
        {
            _crypto.BnClearFree(c);
        }
    }

    public BigInteger Decrypt(BigInteger ciphertext)
    {
        using Lease lease = Acquire();
        NativeKey k = _key;
        IntPtr ctx = lease.Ctx;
        var temporaries = new Temporaries(_crypto);
        try
        {
            IntPtr c = temporaries.Add(_crypto.ToBn(ciphertext));
            IntPtr cp = temporaries.Add(Remainder(c, k.PSquared, ctx));
            IntPtr cq = temporaries.Add(Remainder(c, k.QSquared, ctx));
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
        NativeKey k = _key;
        IntPtr ctx = lease.Ctx;
        var temporaries = new Temporaries(_crypto);
        try
        {
            IntPtr aBn = temporaries.Add(_crypto.ToBn(a));
            IntPtr cBn = temporaries.Add(_crypto.ToBn(c));
            IntPtr exponent = temporaries.Add(_crypto.ToBn(e));
            IntPtr ap = temporaries.Add(Remainder(aBn, k.PSquared, ctx));
            IntPtr cp = temporaries.Add(Remainder(cBn, k.PSquared, ctx));
            // Each factor is checked on its own (the product alone would hide c when e = 0).
            if (!IsUnitModulo(ap, k.P, ctx) || !IsUnitModulo(cp, k.P, ctx))
            {
                throw Error.Of(MpcErrorCode.InvalidCiphertext, "ciphertext is not a unit modulo N².");
            }
            IntPtr tp = temporaries.Add(_crypto.NewSecret());
            LibCrypto.Check(_crypto.ModExpConstTime(tp, cp, exponent, k.PSquared, ctx, k.MontPSquared), "BN_mod_exp_mont_consttime");
            IntPtr yp = temporaries.Add(ModMul(ap, tp, k.PSquared, ctx));
            IntPtr xp = temporaries.Add(_crypto.NewSecret());
            LibCrypto.Check(_crypto.ModExpConstTime(xp, yp, k.PMinus1, k.PSquared, ctx, k.MontPSquared), "BN_mod_exp_mont_consttime");
            // x ≡ 1 (mod p) and x < p², so L(x) = (x - 1)/p = ⌊x/p⌋.
            IntPtr lp = temporaries.Add(Quotient(xp, k.P, ctx));
            IntPtr mp = temporaries.Add(ModMul(lp, k.Hp, k.P, ctx));
            IntPtr yModP = temporaries.Add(Remainder(yp, k.P, ctx));
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
        NativeKey k = _key;
        IntPtr ctx = lease.Ctx;
        var temporaries = new Temporaries(_crypto);
        try
        {
            IntPtr v1 = temporaries.Add(Remainder(temporaries.Add(_crypto.ToBn(first)), k.P, ctx));
            IntPtr v2 = temporaries.Add(Remainder(temporaries.Add(_crypto.ToBn(second)), k.P, ctx));
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
            r = Remainder(v, _key.P, lease.Ctx);
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
            r = ModMul(a, b, _key.P, lease.Ctx);
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
    private IntPtr DecryptResidues(IntPtr cp, IntPtr cq, IntPtr ctx, Temporaries temporaries)
    {
        NativeKey k = _key;
        // gcd(c, N) = 1 exactly when p ∤ c and q ∤ c; the residues mod p² and q² decide it cheaply.
        if (!IsUnitModulo(cp, k.P, ctx) || !IsUnitModulo(cq, k.Q, ctx))
        {
            throw Error.Of(MpcErrorCode.InvalidCiphertext, "ciphertext is not a unit modulo N².");
        }
        IntPtr xp = temporaries.Add(_crypto.NewSecret());
        IntPtr xq = temporaries.Add(_crypto.NewSecret());
        LibCrypto.Check(_crypto.ModExpConstTimeX2(xp, cp, k.PMinus1, k.PSquared, k.MontPSquared,
            xq, cq, k.QMinus1, k.QSquared, k.MontQSquared, ctx), "BN_mod_exp_mont_consttime_x2");
        // x ≡ 1 (mod p) and x < p², so L(x) = (x - 1)/p = ⌊x/p⌋.
        IntPtr lp = temporaries.Add(Quotient(xp, k.P, ctx));
        IntPtr lq = temporaries.Add(Quotient(xq, k.Q, ctx));
        IntPtr mp = temporaries.Add(ModMul(lp, k.Hp, k.P, ctx));
        IntPtr mq = temporaries.Add(ModMul(lq, k.Hq, k.Q, ctx));
        return temporaries.Add(Garner(mp, mq, k.P, k.Q, k.QInverseModP, ctx, temporaries));
    }

    public BigInteger NoncePower(BigInteger nonce)
    {
        using Lease lease = Acquire();
        NativeKey k = _key;
        IntPtr ctx = lease.Ctx;
        var temporaries = new Temporaries(_crypto);
        try
        {
            IntPtr r = temporaries.Add(_crypto.ToBn(nonce));
            IntPtr rp = temporaries.Add(Remainder(r, k.PSquared, ctx));
            IntPtr rq = temporaries.Add(Remainder(r, k.QSquared, ctx));
            IntPtr xp = temporaries.Add(_crypto.NewSecret());
            IntPtr xq = temporaries.Add(_crypto.NewSecret());
            LibCrypto.Check(_crypto.ModExpConstTimeX2(xp, rp, k.NModPhiPSquared, k.PSquared, k.MontPSquared,
                xq, rq, k.NModPhiQSquared, k.QSquared, k.MontQSquared, ctx), "BN_mod_exp_mont_consttime_x2");
            IntPtr result = temporaries.Add(Garner(xp, xq, k.PSquared, k.QSquared, k.QSquaredInverseModPSquared, ctx, temporaries));
            return _crypto.FromBn(result);
        }
        finally
        {
            temporaries.Free();
        }
    }

    /// <summary>Frees and wipes every native value (BN_clear_free); calls in flight finish first.</summary>
    public void Dispose() => _key.Dispose();

    /// <summary>
    /// x = a_Q + Q·(((a_P - a_Q) · Q⁻¹) mod P) for a_P ∈ [0, P), a_Q ∈ [0, Q). The difference is taken as
    /// a_P + P - (a_Q mod P), which is positive, so no branch depends on which residue is larger.
    /// </summary>
    private IntPtr Garner(IntPtr aP, IntPtr aQ, IntPtr modP, IntPtr modQ, IntPtr qInverseModP, IntPtr ctx, Temporaries temporaries)
    {
        IntPtr aQModP = temporaries.Add(Remainder(aQ, modP, ctx));
        IntPtr sum = temporaries.Add(_crypto.NewSecret());
        IntPtr difference = temporaries.Add(_crypto.NewSecret());
        LibCrypto.Check(_crypto.UAdd(sum, aP, modP), "BN_uadd");
        LibCrypto.Check(_crypto.USub(difference, sum, aQModP), "BN_usub");
        IntPtr h = temporaries.Add(ModMul(difference, qInverseModP, modP, ctx));
        IntPtr product = temporaries.Add(Product(modQ, h, ctx));
        IntPtr result = _crypto.NewSecret();
        if (_crypto.UAdd(result, product, aQ) != 1)
        {
            _crypto.BnClearFree(result);
            throw new System.Security.Cryptography.CryptographicException("BN_uadd failed.");
        }
        return result;
    }

    private bool IsUnitModulo(IntPtr value, IntPtr prime, IntPtr ctx)
    {
        IntPtr residue = Remainder(value, prime, ctx);
        try
        {
            return _crypto.IsZero(residue) == 0;
        }
        finally
        {
            _crypto.BnClearFree(residue);
        }
    }

    private IntPtr FermatInverse(IntPtr value, IntPtr prime, IntPtr primeMinus2, IntPtr ctx)
    {
        IntPtr reduced = Remainder(value, prime, ctx);
        IntPtr inverse = _crypto.NewSecret();
        IntPtr check = IntPtr.Zero;
        try
        {
            LibCrypto.Check(_crypto.ModExpConstTime(inverse, reduced, primeMinus2, prime, ctx, IntPtr.Zero), "BN_mod_exp_mont_consttime");
            check = ModMul(reduced, inverse, prime, ctx);
            if (_crypto.IsOne(check) == 0)
            {
                // Only a composite "prime" (a forged or corrupted key) gets here; the value is not named.
                throw Error.Of(MpcErrorCode.InvalidPaillierModulus, "Paillier secret primes are not coprime primes.");
            }
            return inverse;
        }
        catch
        {
            _crypto.BnClearFree(inverse);
            throw;
        }
        finally
        {
            _crypto.BnClearFree(reduced);
            _crypto.BnClearFree(check);
        }
    }

    private IntPtr ModPhiOfSquare(IntPtr n, IntPtr prime, IntPtr primeMinus1, IntPtr ctx)
    {
        IntPtr phi = Product(prime, primeMinus1, ctx);
        try
        {
            return Remainder(n, phi, ctx);
        }
        finally
        {
            _crypto.BnClearFree(phi);
        }
    }

    private IntPtr Difference(IntPtr larger, IntPtr smaller)
    {
        IntPtr result = _crypto.NewSecret();
        if (_crypto.USub(result, larger, smaller) != 1)
        {
            _crypto.BnClearFree(result);
            throw new System.Security.Cryptography.CryptographicException("BN_usub failed.");
        }
        return result;
    }

    private IntPtr Remainder(IntPtr value, IntPtr modulus, IntPtr ctx) => Divide(value, modulus, ctx, quotient: false);

    private IntPtr Quotient(IntPtr value, IntPtr divisor, IntPtr ctx) => Divide(value, divisor, ctx, quotient: true);

    private IntPtr Divide(IntPtr value, IntPtr divisor, IntPtr ctx, bool quotient)
    {
        IntPtr result = _crypto.NewSecret();
        int ok = quotient
            ? _crypto.Div(result, IntPtr.Zero, value, divisor, ctx)
            : _crypto.Div(IntPtr.Zero, result, value, divisor, ctx);
        if (ok != 1)
        {
            _crypto.BnClearFree(result);
            throw new System.Security.Cryptography.CryptographicException("BN_div failed.");
        }
        return result;
    }

    private IntPtr ModMul(IntPtr a, IntPtr b, IntPtr modulus, IntPtr ctx)
    {
        IntPtr result = _crypto.NewSecret();
        if (_crypto.ModMul(result, a, b, modulus, ctx) != 1)
        {
            _crypto.BnClearFree(result);
            throw new System.Security.Cryptography.CryptographicException("BN_mod_mul failed.");
        }
        return result;
    }

    private IntPtr Product(IntPtr a, IntPtr b, IntPtr ctx)
    {
        IntPtr result = _crypto.NewSecret();
        if (_crypto.Mul(result, a, b, ctx) != 1)
        {
            _crypto.BnClearFree(result);
            throw new System.Security.Cryptography.CryptographicException("BN_mul failed.");
        }
        return result;
    }

    private IntPtr Montgomery(IntPtr modulus, IntPtr ctx)
    {
        IntPtr mont = _crypto.MontNew();
        // The modulus carries BN_FLG_CONSTTIME, so BN_MONT_CTX_set inverts its low word without branching.
        if (mont == IntPtr.Zero || _crypto.MontSet(mont, modulus, ctx) != 1)
        {
            _crypto.MontFree(mont);
            throw new System.Security.Cryptography.CryptographicException("BN_MONT_CTX_set failed.");
        }
        return mont;
    }

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
    private readonly struct Lease(NativeKey key, LibCrypto crypto, IntPtr ctx) : IDisposable
    {
        public IntPtr Ctx => ctx;

        public void Dispose()
        {
            crypto.CtxFree(ctx);
            key.DangerousRelease();
        }
    }

    /// <summary>The intermediate BIGNUMs of one call, wiped and freed together.</summary>
    private sealed class Temporaries(LibCrypto crypto)
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

    /// <summary>
    /// The native key material. A SafeHandle so that Dispose during a call in flight waits for it, and
    /// the values are wiped (BN_clear_free) exactly once, even if the owner forgets to dispose.
    /// </summary>
    private sealed class NativeKey(LibCrypto crypto) : SafeHandle(IntPtr.Zero, ownsHandle: true)
    {
        public IntPtr P;
        public IntPtr Q;
        public IntPtr PSquared;
        public IntPtr QSquared;
        public IntPtr PMinus1;
        public IntPtr QMinus1;
        public IntPtr Hp;
        public IntPtr Hq;
        public IntPtr QInverseModP;
        public IntPtr QSquaredInverseModPSquared;
        public IntPtr NModPhiPSquared;
        public IntPtr NModPhiQSquared;
        public IntPtr MontPSquared;
        public IntPtr MontQSquared;
        public IntPtr MontP;

        public override bool IsInvalid => handle == IntPtr.Zero;

        public void SetHandle() => SetHandle(P);

        protected override bool ReleaseHandle()
        {
            foreach (IntPtr value in new[] { P, Q, PSquared, QSquared, PMinus1, QMinus1, Hp, Hq, QInverseModP,
                         QSquaredInverseModPSquared, NModPhiPSquared, NModPhiQSquared })
            {
                crypto.BnClearFree(value);
            }
            // BN_MONT_CTX_free clears its copies of the modulus and R² (BN_clear_free) before freeing.
            crypto.MontFree(MontPSquared);
            crypto.MontFree(MontQSquared);
            crypto.MontFree(MontP);
            P = Q = PSquared = QSquared = PMinus1 = QMinus1 = Hp = Hq = QInverseModP = IntPtr.Zero;
            QSquaredInverseModPSquared = NModPhiPSquared = NModPhiQSquared = MontPSquared = MontQSquared = MontP = IntPtr.Zero;
            return true;
        }
    }
}
