using System.Security.Cryptography;
using Mpc.Crypto.Curves;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Math;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Crypto.Tests.Curves;

public sealed class EcdsaSignatureTests
{
    public static TheoryData<CurveKind> Curves => CurveTestData.AllCurves;

    [Theory]
    [MemberData(nameof(Curves))]
    public void ToDer_parses_back_with_BouncyCastle_Asn1(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        // Top bits set force DER's leading zero byte; small values force short integers.
        BigInteger highBit = curve.Order.Subtract(BigInteger.One);
        foreach ((BigInteger r, BigInteger s) in new[] { (highBit, BigInteger.One), (BigInteger.ValueOf(127), highBit), (curve.RandomScalar(), curve.RandomScalar()) })
        {
            byte[] der = new EcdsaSignature(r, s, 0).ToDer();

            Asn1Sequence sequence = Asn1Sequence.GetInstance(Asn1Object.FromByteArray(der));
            Assert.Equal(2, sequence.Count);
            Assert.Equal(r, DerInteger.GetInstance(sequence[0]).Value);
            Assert.Equal(s, DerInteger.GetInstance(sequence[1]).Value);
            Assert.Equal(der, sequence.GetEncoded(Asn1Encodable.Der));
        }
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void ToP1363_is_fixed_length_r_then_s(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        var signature = new EcdsaSignature(BigInteger.One, BigInteger.Two, 0);

        byte[] p1363 = signature.ToP1363(curve.ScalarLength);

        Assert.Equal(2 * curve.ScalarLength, p1363.Length);
        Assert.Equal(1, p1363[curve.ScalarLength - 1]);
        Assert.Equal(2, p1363[^1]);
        Assert.Equal(2, p1363.Count(b => b != 0));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void NormalizeLowS_halves_s_keeps_validity_and_flips_the_recovery_parity(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        BigInteger d = curve.RandomScalar();
        ECPoint publicKey = curve.MultiplyBase(d);
        int highSeen = 0;
        for (int i = 0; i < 24 || highSeen < 3; i++)
        {
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            EcdsaSignature signature = CurveTestData.SignWithNonce(curve, d, curve.RandomScalar(), digest);
            Assert.Equal(publicKey, CurveTestData.RecoverPublicKey(curve, signature, digest));

            EcdsaSignature normalized = signature.NormalizeLowS(curve);

            Assert.True(normalized.IsLowS(curve));
            Assert.True(normalized.S.CompareTo(curve.HalfOrder) <= 0);
            Assert.Equal(signature.R, normalized.R);
            Assert.True(curve.Verify(publicKey, Digest.Parse(digest), normalized.R, normalized.S));
            Assert.Equal(publicKey, CurveTestData.RecoverPublicKey(curve, normalized, digest));
            if (signature.IsLowS(curve))
            {
                Assert.Same(signature, normalized);
            }
            else
            {
                highSeen++;
                Assert.Equal(curve.Order.Subtract(signature.S), normalized.S);
                Assert.Equal(signature.RecoveryId ^ 1, normalized.RecoveryId);
            }
        }
    }

    [Fact]
    public void HalfOrder_is_the_boundary_of_low_S()
    {
        EcCurve curve = EcCurve.Get(CurveKind.Secp256k1);

        Assert.True(new EcdsaSignature(BigInteger.One, curve.HalfOrder, 0).IsLowS(curve));
        Assert.False(new EcdsaSignature(BigInteger.One, curve.HalfOrder.Add(BigInteger.One), 0).IsLowS(curve));
        Assert.Equal(curve.Order, curve.HalfOrder.ShiftLeft(1).Add(BigInteger.One));
    }
}
