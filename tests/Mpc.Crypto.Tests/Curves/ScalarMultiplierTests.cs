using Mpc.Crypto.Curves;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Tests.Curves;

public sealed class ScalarMultiplierTests
{
    [Theory]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public void OpenSSL_and_BouncyCastle_agree_on_random_scalars_and_points(CurveKind kind)
    {
        Assert.True(OpenSslEcMultiplier.TryCreate(out IScalarMultiplier? openssl));
        var managed = new ManagedScalarMultiplier();
        EcCurve curve = EcCurve.Get(kind);
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
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public void OpenSSL_and_BouncyCastle_agree_on_sums_of_two_multiplies_including_zero_scalars_and_the_identity(CurveKind kind)
    {
        Assert.True(OpenSslEcMultiplier.TryCreate(out IScalarMultiplier? openssl));
        var managed = new ManagedScalarMultiplier();
        EcCurve curve = EcCurve.Get(kind);
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

    [Fact]
    public void A_zero_scalar_is_refused()
    {
        EcCurve curve = EcCurve.Get(CurveKind.P256);
        Assert.Throws<ArgumentException>(() => curve.MultiplySecret(curve.G, curve.Order));
    }
}
