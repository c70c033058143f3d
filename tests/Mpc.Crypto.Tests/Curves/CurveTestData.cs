using Mpc.Crypto.Curves;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Tests.Curves;

internal static class CurveTestData
{
    public static TheoryData<CurveKind> AllCurves => [CurveKind.Secp256k1, CurveKind.P256, CurveKind.P384];

    public static BigInteger FieldPrime(EcCurve curve) => curve.G.Curve.Field.Characteristic;

    /// <summary>x³ + ax + b mod p.</summary>
    public static BigInteger CurveEquation(EcCurve curve, BigInteger x)
    {
        BigInteger p = FieldPrime(curve);
        BigInteger a = curve.G.Curve.A.ToBigInteger();
        BigInteger b = curve.G.Curve.B.ToBigInteger();
        return x.ModPow(BigInteger.Three, p).Add(a.Multiply(x)).Add(b).Mod(p);
    }

    /// <summary>Euler's criterion: v^((p-1)/2) = 1 for a non-zero square.</summary>
    public static bool IsSquare(EcCurve curve, BigInteger value)
    {
        BigInteger p = FieldPrime(curve);
        return value.SignValue == 0 || value.ModPow(p.ShiftRight(1), p).Equals(BigInteger.One);
    }

    /// <summary>The smallest positive x for which the curve has a point (wantSquare) or has none.</summary>
    public static BigInteger SmallX(EcCurve curve, bool wantSquare)
    {
        for (int x = 1; ; x++)
        {
            if (IsSquare(curve, CurveEquation(curve, BigInteger.ValueOf(x))) == wantSquare)
            {
                return BigInteger.ValueOf(x);
            }
        }
    }

    public static byte[] Compressed(EcCurve curve, byte prefix, BigInteger x)
    {
        byte[] encoded = new byte[curve.PointLength];
        encoded[0] = prefix;
        byte[] xBytes = x.ToByteArrayUnsigned();
        xBytes.CopyTo(encoded, encoded.Length - xBytes.Length);
        return encoded;
    }

    /// <summary>
    /// Textbook ECDSA with a chosen nonce, so tests know R: recovery id bit 0 is R's y parity and
    /// bit 1 says R.x ≥ q.
    /// </summary>
    public static EcdsaSignature SignWithNonce(EcCurve curve, BigInteger privateKey, BigInteger nonce, byte[] digest)
    {
        ECPoint r = curve.MultiplyBase(nonce);
        BigInteger rx = r.AffineXCoord.ToBigInteger();
        BigInteger rScalar = rx.Mod(curve.Order);
        BigInteger s = nonce.ModInverse(curve.Order)
            .Multiply(curve.DigestToScalar(Digest.Parse(digest)).Add(rScalar.Multiply(privateKey))).Mod(curve.Order);
        int recoveryId = (r.AffineYCoord.TestBitZero() ? 1 : 0) | (rx.CompareTo(curve.Order) >= 0 ? 2 : 0);
        return new EcdsaSignature(rScalar, s, recoveryId);
    }

    /// <summary>Q = r⁻¹(sR − eG), with R chosen by the recovery id.</summary>
    public static ECPoint RecoverPublicKey(EcCurve curve, EcdsaSignature signature, byte[] digest)
    {
        BigInteger x = (signature.RecoveryId & 2) != 0 ? signature.R.Add(curve.Order) : signature.R;
        ECPoint r = curve.DecodePoint(Compressed(curve, (byte)(0x02 | (signature.RecoveryId & 1)), x), "R");
        BigInteger rInverse = signature.R.ModInverse(curve.Order);
        ECPoint sR = r.Multiply(signature.S);
        ECPoint eG = curve.MultiplyBase(curve.DigestToScalar(Digest.Parse(digest)));
        return sR.Subtract(eG).Multiply(rInverse).Normalize();
    }
}
