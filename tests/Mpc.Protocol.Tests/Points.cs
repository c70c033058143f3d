using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;

namespace Mpc.Protocol.Tests;

/// <summary>Hostile encodings for tests.</summary>
public static class Points
{
    /// <summary>A compressed encoding whose x has no point on the curve.</summary>
    public static byte[] OffCurve(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        for (int x = 1; ; x++)
        {
            byte[] encoded = new byte[curve.PointLength];
            encoded[0] = 0x02;
            curve.EncodeScalar(BigInteger.ValueOf(x)).AsSpan(curve.ScalarLength - 4).CopyTo(encoded.AsSpan(curve.PointLength - 4));
            try
            {
                curve.DecodePoint(encoded, "probe");
            }
            catch (Crypto.MpcProtocolException)
            {
                return encoded;
            }
        }
    }

    /// <summary>The same proof with its response changed by one.</summary>
    public static DlogProof TamperResponse(DlogProof proof, CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        var writer = new WireWriter();
        proof.WriteTo(writer);
        var reader = new WireReader(writer.ToArray());
        byte[] commitment = reader.ReadByteArray("A");
        BigInteger z = new BigInteger(1, reader.ReadByteArray("z")).Add(BigInteger.One).Mod(curve.Order);
        byte[] tampered = new WireWriter().WriteBytes(commitment).WriteBytes(curve.EncodeScalar(z)).ToArray();
        var tamperedReader = new WireReader(tampered);
        return DlogProof.ReadFrom(ref tamperedReader, curve);
    }
}
