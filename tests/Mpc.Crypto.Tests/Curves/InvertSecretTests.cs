using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Curves;

/// <summary>k⁻¹ mod q by Fermat through each backend, against BouncyCastle's extended-Euclid ModInverse.</summary>
public sealed class InvertSecretTests
{
    public static TheoryData<CurveKind, BigNumBackendKind> CurvesAndBackends
    {
        get
        {
            var data = new TheoryData<CurveKind, BigNumBackendKind>();
            foreach (CurveKind curve in new[] { CurveKind.Secp256k1, CurveKind.P256, CurveKind.P384 })
            {
                data.Add(curve, BigNumBackendKind.OpenSsl);
                data.Add(curve, BigNumBackendKind.Managed);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(CurvesAndBackends))]
    public void InvertSecret_equals_ModInverse_for_random_and_edge_scalars(CurveKind kind, BigNumBackendKind backendKind)
    {
        EcCurve curve = EcCurve.Get(kind);
        IBigNumBackend backend = TestNumbers.Backend(backendKind);
        BigInteger q = curve.Order;
        var random = new Random((int)kind * 31 + (int)backendKind);
        List<BigInteger> scalars = [BigInteger.One, BigInteger.Two, q.Subtract(BigInteger.One), q.Subtract(BigInteger.Two), q.ShiftRight(1)];
        scalars.AddRange(Enumerable.Range(0, 200).Select(_ => TestNumbers.BelowModulus(random, q.Subtract(BigInteger.One)).Add(BigInteger.One)));

        foreach (BigInteger k in scalars)
        {
            BigInteger inverse = curve.InvertSecret(k, backend);
            Assert.Equal(k.ModInverse(q), inverse);
            Assert.Equal(BigInteger.One, k.Multiply(inverse).Mod(q));
        }
        Assert.Equal(BigInteger.One, curve.InvertSecret(BigInteger.One, backend));
        Assert.Equal(q.Subtract(BigInteger.One), curve.InvertSecret(q.Subtract(BigInteger.One), backend));
    }

    [Theory]
    [MemberData(nameof(CurvesAndBackends))]
    public void InvertSecret_refuses_zero_and_values_outside_one_to_q_minus_one(CurveKind kind, BigNumBackendKind backendKind)
    {
        EcCurve curve = EcCurve.Get(kind);
        IBigNumBackend backend = TestNumbers.Backend(backendKind);
        BigInteger q = curve.Order;

        foreach (BigInteger k in new[] { BigInteger.Zero, q, q.Add(BigInteger.One), BigInteger.One.Negate(), q.Negate() })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => curve.InvertSecret(k, backend));
            Assert.Equal("k", e.ParamName);
        }
    }
}
