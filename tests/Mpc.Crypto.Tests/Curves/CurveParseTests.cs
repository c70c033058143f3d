using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;

namespace Mpc.Crypto.Tests.Curves;

public sealed class CurveParseTests
{
    [Theory]
    [InlineData("secp256k1", CurveKind.Secp256k1)]
    [InlineData("SECP256K1", CurveKind.Secp256k1)]
    [InlineData("p256", CurveKind.P256)]
    [InlineData("P-256", CurveKind.P256)]
    [InlineData("secp256r1", CurveKind.P256)]
    [InlineData("prime256v1", CurveKind.P256)]
    [InlineData(" p-256 ", CurveKind.P256)]
    [InlineData("p384", CurveKind.P384)]
    [InlineData("P-384", CurveKind.P384)]
    [InlineData("secp384r1", CurveKind.P384)]
    public void Parse_accepts_the_documented_names(string name, CurveKind expected)
    {
        Assert.Equal(expected, EcCurve.Parse(name));
    }

    [Theory]
    [InlineData("ed25519")]
    [InlineData("")]
    [InlineData("p521")]
    [InlineData("secp256k2")]
    [InlineData("P 256")]
    public void Parse_refuses_other_names(string name)
    {
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(() => EcCurve.Parse(name));

        Assert.Equal(MpcErrorCode.UnsupportedCurve, e.Code);
    }

    [Theory]
    [InlineData(CurveKind.Secp256k1, "secp256k1", 32, 256)]
    [InlineData(CurveKind.P256, "P-256", 32, 256)]
    [InlineData(CurveKind.P384, "P-384", 48, 384)]
    public void Get_gives_the_curve_parameters(CurveKind kind, string name, int scalarLength, int orderBits)
    {
        EcCurve curve = EcCurve.Get(kind);

        Assert.Equal(kind, curve.Kind);
        Assert.Equal(name, curve.Name);
        Assert.Equal(name, EcCurve.NameOf(kind));
        Assert.Equal(kind, EcCurve.Parse(name));
        Assert.Equal(scalarLength, curve.ScalarLength);
        Assert.Equal(scalarLength + 1, curve.PointLength);
        Assert.Equal(orderBits, curve.Order.BitLength);
        Assert.True(curve.MultiplyBase(curve.Order.Subtract(Org.BouncyCastle.Math.BigInteger.One)).Add(curve.G).IsInfinity);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void Get_refuses_unknown_kinds(int kind)
    {
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(() => EcCurve.Get((CurveKind)kind));

        Assert.Equal(MpcErrorCode.UnsupportedCurve, e.Code);
    }

    [Theory]
    [InlineData(1u, CurveKind.Secp256k1)]
    [InlineData(2u, CurveKind.P256)]
    [InlineData(3u, CurveKind.P384)]
    public void ReadFrom_reads_the_curve_numbers_the_wire_carries(uint value, CurveKind expected)
    {
        byte[] data = new WireWriter().WriteUInt32(value).ToArray();
        var reader = new WireReader(data);
        Assert.Equal(expected, EcCurve.ReadFrom(ref reader).Kind);
        Assert.True(reader.IsEmpty);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(4u)]
    [InlineData(0x7FFFFFFFu)]
    [InlineData(0x80000000u)]
    [InlineData(0xFFFFFFFFu)]
    public void ReadFrom_refuses_any_other_number_as_an_unsupported_curve_never_an_overflow(uint value)
    {
        byte[] data = new WireWriter().WriteUInt32(value).ToArray();
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(() =>
        {
            var reader = new WireReader(data);
            EcCurve.ReadFrom(ref reader);
        });
        Assert.Equal(MpcErrorCode.UnsupportedCurve, e.Code);
    }
}
