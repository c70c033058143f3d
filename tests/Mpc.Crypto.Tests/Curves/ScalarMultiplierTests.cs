using Mpc.Crypto.Curves;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Tests.Curves;

public sealed class ScalarMultiplierTests
{
    [Theory]
    [MemberData(nameof(CurveTestData.AllCurves), MemberType = typeof(CurveTestData))]
    public void OpenSSL_and_BouncyCastle_agree_on_random_scalars_and_points(CurveKind kind)
    {
        (IScalarMultiplier openssl, ManagedScalarMultiplier managed, EcCurve curve) = Both(kind);
        BigInteger[] edgeScalars = [BigInteger.One, BigInteger.Two, curve.Order.Subtract(BigInteger.One), curve.HalfOrder];
        for (int i = 0; i < 24; i++)
        {
            BigInteger k = i < edgeScalars.Length ? edgeScalars[i] : curve.RandomScalar();
            ECPoint point = curve.G.Multiply(curve.RandomScalar()).Normalize();
            Assert.Equal(managed.Multiply(curve, null, k), openssl.Multiply(curve, null, k));
            Assert.Equal(managed.Multiply(curve, point, k), openssl.Multiply(curve, point, k));
        }
    }

    [Theory]
    [MemberData(nameof(CurveTestData.AllCurves), MemberType = typeof(CurveTestData))]
    public void OpenSSL_and_BouncyCastle_agree_on_sums_of_two_multiplies_including_zero_scalars_and_the_identity(CurveKind kind)
    {
        (IScalarMultiplier openssl, ManagedScalarMultiplier managed, EcCurve curve) = Both(kind);
        for (int i = 0; i < 24; i++)
        {
            BigInteger k = curve.RandomScalar();
            ECPoint point = curve.G.Multiply(k).Normalize();
            (BigInteger a, BigInteger b) = i switch
            {
                0 => (BigInteger.Zero, curve.RandomScalar()),
                1 => (curve.RandomScalar(), BigInteger.Zero),
                2 => (BigInteger.Zero, BigInteger.Zero),
                _ => (curve.RandomScalar(), curve.RandomScalar()),
            };
            ECPoint expected = managed.SumOfTwoMultiplies(curve, a, point, b);
            Assert.Equal(expected, openssl.SumOfTwoMultiplies(curve, a, point, b));
            Assert.Equal(curve.G.Multiply(a.Add(b.Multiply(k)).Mod(curve.Order)).Normalize(), expected);
        }
        // a·G + b·(k·G) with a = −b·k: the identity, from both.
        BigInteger secret = curve.RandomScalar(), scalar = curve.RandomScalar();
        ECPoint p = curve.G.Multiply(secret).Normalize();
        BigInteger cancelling = curve.Order.Subtract(scalar.Multiply(secret).Mod(curve.Order));
        Assert.True(openssl.SumOfTwoMultiplies(curve, cancelling, p, scalar).IsInfinity);
        Assert.True(managed.SumOfTwoMultiplies(curve, cancelling, p, scalar).IsInfinity);
        Assert.True(curve.SumOfTwoMultiplies(cancelling, p, scalar).IsInfinity);
    }

    [Theory]
    [MemberData(nameof(CurveTestData.AllCurves), MemberType = typeof(CurveTestData))]
    public void The_managed_variable_base_multiplication_equals_plain_BouncyCastle_for_edge_and_random_scalars(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        var managed = new ManagedScalarMultiplier();
        ECPoint point = curve.G.Multiply(curve.RandomScalar()).Normalize();
        BigInteger[] edgeScalars = [BigInteger.One, BigInteger.Two, curve.Order.Subtract(BigInteger.One), curve.Order.Subtract(BigInteger.Two), curve.HalfOrder];
        for (int i = 0; i < 16; i++)
        {
            BigInteger k = i < edgeScalars.Length ? edgeScalars[i] : curve.RandomScalar();
            Assert.Equal(point.Multiply(k).Normalize(), managed.Multiply(curve, point, k));
            Assert.Equal(curve.G.Multiply(k).Normalize(), managed.Multiply(curve, curve.G, k));
        }
    }

    [Theory]
    [MemberData(nameof(CurveTestData.AllCurves), MemberType = typeof(CurveTestData))]
    public void The_scalar_handed_to_the_variable_base_multiplier_has_one_length_for_every_k_and_is_fresh_each_call(CurveKind kind)
    {
        // The server knows everything about k2 but its value, so the multiplication must not reveal k's bit length
        // (the operation count of a wNAF or ladder) nor repeat its digits from call to call.
        EcCurve curve = EcCurve.Get(kind);
        var handed = new List<BigInteger>();
        var managed = new ManagedScalarMultiplier((p, k) =>
        {
            handed.Add(k);
            return p.Multiply(k);
        });
        ECPoint point = curve.G.Multiply(curve.RandomScalar()).Normalize();
        BigInteger[] scalars = [BigInteger.One, BigInteger.One, curve.Order.Subtract(BigInteger.One), curve.Order.Subtract(BigInteger.One), curve.RandomScalar()];
        foreach (BigInteger k in scalars)
        {
            Assert.Equal(point.Multiply(k).Normalize(), managed.Multiply(curve, point, k));
        }

        Assert.Equal(scalars.Length, handed.Count);
        for (int i = 0; i < scalars.Length; i++)
        {
            Assert.Equal(scalars[i], handed[i].Mod(curve.Order));
            Assert.Equal(handed[0].BitLength, handed[i].BitLength);
        }
        Assert.NotEqual(handed[0], handed[1]);
        Assert.NotEqual(handed[2], handed[3]);
    }

    [Fact]
    public void A_zero_scalar_is_refused()
    {
        EcCurve curve = EcCurve.Get(CurveKind.P256);
        Assert.Throws<ArgumentException>(() => curve.MultiplySecret(curve.G, curve.Order));
    }

    private static (IScalarMultiplier OpenSsl, ManagedScalarMultiplier Managed, EcCurve Curve) Both(CurveKind kind)
    {
        Assert.True(OpenSslEcMultiplier.TryCreate(out IScalarMultiplier? openssl));
        return (openssl, new ManagedScalarMultiplier(), EcCurve.Get(kind));
    }
}
