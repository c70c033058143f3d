using Mpc.Crypto.Curves;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Tests.Curves;

public sealed class SecretScalarMultiplierTests
{
    [Theory]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public void OpenSSL_and_BouncyCastle_agree_on_random_scalars_and_points(CurveKind kind)
    {
        Assert.True(OpenSslEcMultiplier.TryCreate(out ISecretScalarMultiplier? openssl));
        var managed = new ManagedSecretScalarMultiplier();
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

    [Fact]
    public void A_zero_scalar_is_refused()
    {
        EcCurve curve = EcCurve.Get(CurveKind.P256);
        Assert.Throws<ArgumentException>(() => curve.MultiplySecret(curve.G, curve.Order));
    }
}
