using Mpc.Crypto.Curves;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Curves;

public sealed class ScalarAndDigestTests
{
    public static TheoryData<CurveKind> Curves => CurveTestData.AllCurves;

    [Theory]
    [MemberData(nameof(Curves))]
    public void DecodeScalar_refuses_values_outside_one_to_q_minus_one(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        BigInteger q = curve.Order;
        BigInteger max = BigInteger.One.ShiftLeft(curve.ScalarLength * 8).Subtract(BigInteger.One);

        foreach (BigInteger value in new[] { BigInteger.Zero, q, q.Add(BigInteger.One), max })
        {
            byte[] encoded = curve.EncodeScalar(value);
            Assert.Equal(curve.ScalarLength, encoded.Length);
            AssertOutOfRange(() => curve.DecodeScalar(encoded, "k"));
            AssertOutOfRange(() => curve.RequireScalar(value, "k"));
        }
        AssertOutOfRange(() => curve.RequireScalar(BigInteger.One.Negate(), "k"));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void DecodeScalar_refuses_wrong_lengths(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        byte[] one = curve.EncodeScalar(BigInteger.One);

        AssertOutOfRange(() => curve.DecodeScalar(one.AsSpan(1), "k"));
        AssertOutOfRange(() => curve.DecodeScalar([0x00, .. one], "k"));
        AssertOutOfRange(() => curve.DecodeScalar([], "k"));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void DecodeScalar_accepts_the_range_and_round_trips(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        BigInteger random = curve.RandomScalar();

        foreach (BigInteger value in new[] { BigInteger.One, curve.Order.Subtract(BigInteger.One), random })
        {
            Assert.Equal(value, curve.DecodeScalar(curve.EncodeScalar(value), "k"));
        }
    }

    [Fact]
    public void DigestToScalar_uses_the_leftmost_order_bits()
    {
        EcCurve p256 = EcCurve.Get(CurveKind.P256);
        EcCurve p384 = EcCurve.Get(CurveKind.P384);
        EcCurve k1 = EcCurve.Get(CurveKind.Secp256k1);
        byte[] d64 = Enumerable.Range(0, 64).Select(i => unchecked((byte)(i * 37 + 11))).ToArray();
        byte[] d48 = d64[..48];
        byte[] d32 = d64[..32];

        // P-256 and a 48-byte (SHA-384) digest: the first 32 bytes, reduced mod q.
        Assert.Equal(new BigInteger(1, d48[..32]).Mod(p256.Order), p256.DigestToScalar(Digest.Parse(d48)));
        Assert.NotEqual(new BigInteger(1, d48).Mod(p256.Order), p256.DigestToScalar(Digest.Parse(d48)));
        Assert.Equal(new BigInteger(1, d64[..32]).Mod(p256.Order), p256.DigestToScalar(Digest.Parse(d64)));
        Assert.Equal(new BigInteger(1, d64[..48]).Mod(p384.Order), p384.DigestToScalar(Digest.Parse(d64)));
        Assert.Equal(new BigInteger(1, d64[..32]).Mod(k1.Order), k1.DigestToScalar(Digest.Parse(d64)));
        // A digest shorter than the order is taken whole (no padding shift).
        Assert.Equal(new BigInteger(1, d32), p384.DigestToScalar(Digest.Parse(d32)));
        Assert.Equal(new BigInteger(1, d32).Mod(k1.Order), k1.DigestToScalar(Digest.Parse(d32)));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void DigestToScalar_reduces_digests_above_the_order(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        byte[] allOnes = Enumerable.Repeat((byte)0xFF, curve.ScalarLength).ToArray();
        BigInteger value = new(1, allOnes);
        Assert.True(value.CompareTo(curve.Order) >= 0);

        Assert.Equal(value.Subtract(curve.Order), curve.DigestToScalar(Digest.Parse(allOnes)));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void A_digest_of_another_length_is_refused_before_any_curve_sees_it(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);

        foreach (int length in new[] { 0, 20, 31, 33, 47, 63, 65 })
        {
            MpcProtocolException e = Assert.Throws<MpcProtocolException>(() => curve.DigestToScalar(Digest.Parse(new byte[length])));
            Assert.Equal(MpcErrorCode.InvalidDigest, e.Code);
            Assert.Equal($"Digest must be 32, 48 or 64 bytes (was {length}).", e.Message);
            Assert.False(Digest.TryParse(new byte[length], out _));
        }
        foreach (int length in new[] { 32, 48, 64 })
        {
            byte[] bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(length);
            Digest digest = Digest.Parse(bytes);
            Assert.True(digest.Span.SequenceEqual(bytes));
            Assert.Equal(Digest.Parse(bytes), digest);
            bytes[0] ^= 1;
            Assert.False(digest.Span.SequenceEqual(bytes), "the digest holds its own copy");
        }
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void RandomScalar_is_in_range_and_varies(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        var seen = new HashSet<BigInteger>();
        for (int i = 0; i < 32; i++)
        {
            BigInteger k = curve.RandomScalar();
            curve.RequireScalar(k, "k");
            seen.Add(k);
        }

        Assert.Equal(32, seen.Count);
    }

    private static void AssertOutOfRange(Action action) =>
        Assert.Equal(MpcErrorCode.ScalarOutOfRange, Assert.Throws<MpcProtocolException>(action).Code);
}
