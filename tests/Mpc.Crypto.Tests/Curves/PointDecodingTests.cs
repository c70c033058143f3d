using Mpc.Crypto.Curves;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Tests.Curves;

public sealed class PointDecodingTests
{
    public static TheoryData<CurveKind> Curves => CurveTestData.AllCurves;

    [Theory]
    [MemberData(nameof(Curves))]
    public void Random_points_round_trip(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        for (int i = 0; i < 16; i++)
        {
            BigInteger k = curve.RandomScalar();
            ECPoint point = curve.MultiplyBase(k);
            byte[] encoded = curve.EncodePoint(point);

            Assert.Equal(curve.PointLength, encoded.Length);
            Assert.Contains(encoded[0], new byte[] { 0x02, 0x03 });
            Assert.Equal(point, curve.DecodePoint(encoded, "P"));
            Assert.Equal(curve.G.Multiply(k).Normalize(), point);
        }
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void The_identity_is_refused(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);

        AssertInvalidPoint(curve, [0x00]);
        AssertInvalidPoint(curve, new byte[33]);
        AssertInvalidPoint(curve, new byte[curve.PointLength]);
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(() => curve.ValidatePoint(curve.G.Curve.Infinity, "P"));
        Assert.Equal(MpcErrorCode.InvalidPoint, e.Code);
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Uncompressed_and_hybrid_encodings_are_refused(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        ECPoint point = curve.MultiplyBase(curve.RandomScalar());
        byte[] uncompressed = point.GetEncoded(false);
        Assert.Equal(0x04, uncompressed[0]);

        AssertInvalidPoint(curve, uncompressed);
        byte[] hybrid = (byte[])uncompressed.Clone();
        hybrid[0] = (byte)(0x06 | (point.AffineYCoord.TestBitZero() ? 1 : 0));
        AssertInvalidPoint(curve, hybrid);
        // An 0x04 prefix on a compressed-length encoding is refused too.
        byte[] compressedWith04 = curve.EncodePoint(point);
        compressedWith04[0] = 0x04;
        AssertInvalidPoint(curve, compressedWith04);
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Wrong_lengths_are_refused(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        byte[] encoded = curve.EncodePoint(curve.MultiplyBase(curve.RandomScalar()));

        AssertInvalidPoint(curve, []);
        AssertInvalidPoint(curve, encoded[..^1]);
        AssertInvalidPoint(curve, [.. encoded, 0x00]);
        AssertInvalidPoint(curve, [0x00, .. encoded]);
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void An_x_with_no_curve_point_is_refused(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        BigInteger x = CurveTestData.SmallX(curve, wantSquare: false);
        Assert.False(CurveTestData.IsSquare(curve, CurveTestData.CurveEquation(curve, x)));

        AssertInvalidPoint(curve, CurveTestData.Compressed(curve, 0x02, x));
        AssertInvalidPoint(curve, CurveTestData.Compressed(curve, 0x03, x));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void An_x_at_or_above_the_field_prime_is_refused(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        BigInteger p = CurveTestData.FieldPrime(curve);
        BigInteger validX = CurveTestData.SmallX(curve, wantSquare: true);
        // Sanity: the reduced form decodes, so only the non-canonical form is being refused.
        curve.DecodePoint(CurveTestData.Compressed(curve, 0x02, validX), "P");

        AssertInvalidPoint(curve, CurveTestData.Compressed(curve, 0x02, p));
        AssertInvalidPoint(curve, CurveTestData.Compressed(curve, 0x02, p.Add(validX)));
        AssertInvalidPoint(curve, CurveTestData.Compressed(curve, 0x03, BigInteger.One.ShiftLeft(curve.FieldLength * 8).Subtract(BigInteger.One)));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Unknown_prefixes_are_refused(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        byte[] encoded = curve.EncodePoint(curve.MultiplyBase(curve.RandomScalar()));

        foreach (byte prefix in new byte[] { 0x00, 0x01, 0x05, 0x06, 0x07, 0x12, 0xFF })
        {
            encoded[0] = prefix;
            AssertInvalidPoint(curve, encoded);
        }
    }

    [Fact]
    public void A_point_of_another_curve_is_refused()
    {
        EcCurve p256 = EcCurve.Get(CurveKind.P256);
        ECPoint foreign = EcCurve.Get(CurveKind.Secp256k1).MultiplyBase(BigInteger.Ten);
        X9ECParameters brainpool = Org.BouncyCastle.Asn1.TeleTrust.TeleTrusTNamedCurves.GetByName("brainpoolP256r1");

        Assert.Equal(MpcErrorCode.InvalidPoint, Assert.Throws<MpcProtocolException>(() => p256.ValidatePoint(foreign, "P")).Code);
        Assert.Equal(MpcErrorCode.InvalidPoint, Assert.Throws<MpcProtocolException>(() => p256.ValidatePoint(brainpool.G, "P")).Code);
        p256.ValidatePoint(p256.MultiplyBase(BigInteger.Ten), "P");
    }

    private static void AssertInvalidPoint(EcCurve curve, byte[] encoded)
    {
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(() => curve.DecodePoint(encoded, "P"));
        Assert.Equal(MpcErrorCode.InvalidPoint, e.Code);
    }
}
