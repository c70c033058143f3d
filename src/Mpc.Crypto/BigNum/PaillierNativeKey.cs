using System.Runtime.InteropServices;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// The native key material. A SafeHandle so that Dispose during a call in flight waits for it, and
/// the values are wiped (BN_clear_free) exactly once, even if the owner forgets to dispose.
/// </summary>
internal sealed unsafe class PaillierNativeKey(LibCrypto crypto) : SafeHandle(IntPtr.Zero, ownsHandle: true)
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

    /// <summary>Computes every value the decryption needs from p and q, in native secret BIGNUMs.</summary>
    public static PaillierNativeKey Create(LibCrypto crypto, BigInteger p, BigInteger q)
    {
        var ops = new SecretBigNums(crypto);
        var key = new PaillierNativeKey(crypto);
        IntPtr ctx = crypto.CtxNew();
        IntPtr two = IntPtr.Zero, pMinus2 = IntPtr.Zero, qMinus2 = IntPtr.Zero, n = IntPtr.Zero;
        try
        {
            if (ctx == IntPtr.Zero)
            {
                throw new System.Security.Cryptography.CryptographicException("BN_CTX_new failed.");
            }
            PaillierNativeKey k = key;
            k.P = crypto.ToBn(p);
            k.SetHandle();
            k.Q = crypto.ToBn(q);
            k.PMinus1 = crypto.ToBn(p.Subtract(BigInteger.One));
            k.QMinus1 = crypto.ToBn(q.Subtract(BigInteger.One));
            pMinus2 = crypto.ToBn(p.Subtract(BigInteger.Two));
            qMinus2 = crypto.ToBn(q.Subtract(BigInteger.Two));
            two = crypto.ToBn(BigInteger.Two);
            k.PSquared = ops.Product(k.P, k.P, ctx);
            k.QSquared = ops.Product(k.Q, k.Q, ctx);
            k.MontPSquared = ops.Montgomery(k.PSquared, ctx);
            k.MontQSquared = ops.Montgomery(k.QSquared, ctx);
            k.MontP = ops.Montgomery(k.P, ctx);

            // q⁻¹ mod p and p⁻¹ mod q by Fermat; h_p = ((p-1)·q)⁻¹ = -q⁻¹ (mod p), h_q = -p⁻¹ (mod q).
            k.QInverseModP = ops.FermatInverse(k.Q, k.P, pMinus2, ctx);
            IntPtr pInverseModQ = ops.FermatInverse(k.P, k.Q, qMinus2, ctx);
            try
            {
                k.Hq = ops.Difference(k.Q, pInverseModQ);
            }
            finally
            {
                crypto.BnClearFree(pInverseModQ);
            }
            k.Hp = ops.Difference(k.P, k.QInverseModP);

            // (q²)⁻¹ mod p²: lift x = q⁻¹ mod p to y = x·(2 - q·x) mod p² (q·y ≡ 1 mod p²), then square.
            IntPtr qx = ops.ModMul(k.Q, k.QInverseModP, k.PSquared, ctx);
            IntPtr twoPlusP2 = crypto.NewSecret(), factor = crypto.NewSecret(), lifted = IntPtr.Zero;
            try
            {
                LibCrypto.Check(crypto.UAdd(twoPlusP2, k.PSquared, two), "BN_uadd");
                LibCrypto.Check(crypto.USub(factor, twoPlusP2, qx), "BN_usub");
                lifted = ops.ModMul(k.QInverseModP, factor, k.PSquared, ctx);
                k.QSquaredInverseModPSquared = ops.ModMul(lifted, lifted, k.PSquared, ctx);
            }
            finally
            {
                crypto.BnClearFree(qx);
                crypto.BnClearFree(twoPlusP2);
                crypto.BnClearFree(factor);
                crypto.BnClearFree(lifted);
            }

            // N mod φ(p²) and N mod φ(q²): r^N mod p² = r^(N mod p(p-1)) mod p² for r coprime to p.
            n = ops.Product(k.P, k.Q, ctx);
            k.NModPhiPSquared = ops.ModPhiOfSquare(n, k.P, k.PMinus1, ctx);
            k.NModPhiQSquared = ops.ModPhiOfSquare(n, k.Q, k.QMinus1, ctx);
            return key;
        }
        catch
        {
            key.Dispose();
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
