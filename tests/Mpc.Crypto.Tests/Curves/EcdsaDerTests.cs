using Mpc.Crypto.Curves;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Curves;

/// <summary>
/// The one DER parser refuses every BER or malformed variant of a valid signature, including the shapes of
/// Wycheproof's BerEncodedSignature cases (built here by hand from one valid signature), and accepts the DER.
/// </summary>
public sealed class EcdsaDerTests
{
    private static readonly EcCurve P256 = EcCurve.Get(CurveKind.P256);

    // r has its top bit set (so DER needs a leading zero byte), s does not.
    private static readonly byte[] R = [0x00, .. Convert.FromHexString("B1A2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90")];
    private static readonly byte[] S = Convert.FromHexString("31A2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F91");

    private static byte[] Integer(byte[] content) => [0x02, (byte)content.Length, .. content];

    private static byte[] Sequence(params byte[][] elements)
    {
        byte[] content = [.. elements.SelectMany(e => e)];
        return [0x30, (byte)content.Length, .. content];
    }

    private static byte[] Valid => Sequence(Integer(R), Integer(S));

    public static TheoryData<string, byte[]> BerAndMalformed()
    {
        byte[] body = [.. Integer(R), .. Integer(S)];
        byte[] rNoLeadingZero = R[1..];
        return new TheoryData<string, byte[]>
        {
            // Lengths: long form where the short form fits, leading zeros in a length, indefinite length.
            { "sequence length in long form", [0x30, 0x81, (byte)body.Length, .. body] },
            { "sequence length with a leading zero", [0x30, 0x82, 0x00, (byte)body.Length, .. body] },
            { "indefinite sequence length", [0x30, 0x80, .. body, 0x00, 0x00] },
            { "r length in long form", Sequence([0x02, 0x81, (byte)R.Length, .. R], Integer(S)) },
            { "s length with a leading zero", Sequence(Integer(R), [0x02, 0x82, 0x00, (byte)S.Length, .. S]) },
            { "indefinite r length", Sequence([0x02, 0x80, .. R, 0x00, 0x00], Integer(S)) },
            { "constructed sequence tag with indefinite length and BER integers", [0x30, 0x80, 0x02, 0x81, (byte)R.Length, .. R, .. Integer(S), 0x00, 0x00] },
            // Trailing or missing bytes.
            { "one trailing zero byte", [.. Valid, 0x00] },
            { "trailing garbage", [.. Valid, 0x05, 0x00] },
            { "truncated", Valid[..^1] },
            { "length longer than the input", [0x30, (byte)(body.Length + 1), .. body] },
            { "empty", [] },
            // Integers: missing or extra leading zero, negative, zero, out of range.
            { "r without its leading zero (negative)", Sequence(Integer(rNoLeadingZero), Integer(S)) },
            { "s with an extra leading zero", Sequence(Integer(R), Integer([0x00, .. S])) },
            { "r with two leading zeros", Sequence(Integer([0x00, .. R]), Integer(S)) },
            { "negative s", Sequence(Integer(R), Integer([0xFF, .. S[1..]])) },
            { "r = 0", Sequence(Integer([0x00]), Integer(S)) },
            { "s = 0", Sequence(Integer(R), Integer([0x00])) },
            { "empty integer", Sequence(Integer([]), Integer(S)) },
            { "r = n", Sequence(Integer(Unsigned(P256.Order)), Integer(S)) },
            { "s = n + 1", Sequence(Integer(R), Integer(Unsigned(P256.Order.Add(BigInteger.One)))) },
            // Structure: wrong tags, element counts.
            { "SET instead of SEQUENCE", [0x31, .. Valid[1..]] },
            { "r as an OCTET STRING", Sequence([0x04, (byte)R.Length, .. R], Integer(S)) },
            { "only r", Sequence(Integer(R)) },
            { "a third integer", Sequence(Integer(R), Integer(S), Integer([0x01])) },
            { "nested sequence", Sequence(Valid) },
        };
    }

    [Theory]
    [MemberData(nameof(BerAndMalformed))]
    public void Refuses_with_a_one_line_reason(string variant, byte[] encoding)
    {
        MpcProtocolException refused = Assert.Throws<MpcProtocolException>(() => EcdsaDer.Decode(encoding, P256));
        Assert.Equal(MpcErrorCode.MalformedMessage, refused.Code);
        Assert.StartsWith("not a DER ECDSA signature: ", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.False(string.IsNullOrWhiteSpace(variant));
    }

    [Fact]
    public void Accepts_the_DER_encoding_and_round_trips_ToDer()
    {
        (BigInteger r, BigInteger s) = EcdsaDer.Decode(Valid, P256);
        Assert.Equal(new BigInteger(1, R), r);
        Assert.Equal(new BigInteger(1, S), s);
        Assert.Equal(Valid, new EcdsaSignature(r, s, 0).ToDer());
        // Edge values: 1 and n - 1 (the largest accepted).
        BigInteger largest = P256.Order.Subtract(BigInteger.One);
        byte[] edges = new EcdsaSignature(BigInteger.One, largest, 0).ToDer();
        Assert.Equal((BigInteger.One, largest), EcdsaDer.Decode(edges, P256));
    }

    private static byte[] Unsigned(BigInteger value) => value.ToByteArray();
}
