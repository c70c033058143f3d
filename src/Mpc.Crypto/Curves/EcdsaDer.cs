using System.Formats.Asn1;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Curves;

/// <summary>
/// The one parser of DER ECDSA signatures, SEQUENCE { r INTEGER, s INTEGER } (SEC1, RFC 3279), through
/// System.Formats.Asn1 in DER mode: BER forms (long-form or leading-zero lengths, indefinite length),
/// non-minimal or negative integers, extra elements and trailing bytes are refused, so each signature
/// has exactly one accepted encoding. Refusals are <see cref="MpcErrorCode.MalformedMessage"/> with a one-line reason.
/// </summary>
public static class EcdsaDer
{
    /// <summary>r and s as encoded, both positive; no range check against a curve.</summary>
    public static (BigInteger R, BigInteger S) Decode(ReadOnlySpan<byte> der)
    {
        try
        {
            AsnDecoder.ReadSequence(der, AsnEncodingRules.DER, out int contentOffset, out int contentLength, out int consumed);
            if (consumed != der.Length)
            {
                throw Refused("trailing bytes after the SEQUENCE");
            }
            ReadOnlySpan<byte> content = der.Slice(contentOffset, contentLength);
            BigInteger r = ReadPositiveInteger(ref content, "r");
            BigInteger s = ReadPositiveInteger(ref content, "s");
            if (!content.IsEmpty)
            {
                throw Refused("the SEQUENCE has more than two elements");
            }
            return (r, s);
        }
        catch (AsnContentException e)
        {
            throw Refused(e.Message.TrimEnd('.'));
        }
    }

    /// <summary>r and s, each in [1, n-1] of <paramref name="curve"/>.</summary>
    public static (BigInteger R, BigInteger S) Decode(ReadOnlySpan<byte> der, EcCurve curve)
    {
        (BigInteger r, BigInteger s) = Decode(der);
        if (r.SignValue <= 0 || r.CompareTo(curve.Order) >= 0 || s.SignValue <= 0 || s.CompareTo(curve.Order) >= 0)
        {
            throw Refused($"r and s must be in [1, n-1] of {curve.Name}");
        }
        return (r, s);
    }

    private static BigInteger ReadPositiveInteger(ref ReadOnlySpan<byte> content, string name)
    {
        if (content.IsEmpty)
        {
            throw Refused($"{name} is missing");
        }
        // DER rules: primitive, definite minimal length, minimal two's-complement content (X.690 8.3.2).
        ReadOnlySpan<byte> value = AsnDecoder.ReadIntegerBytes(content, AsnEncodingRules.DER, out int consumed);
        if ((value[0] & 0x80) != 0)
        {
            throw Refused($"{name} is negative (a leading zero byte is missing)");
        }
        content = content[consumed..];
        return new BigInteger(1, value);
    }

    private static MpcProtocolException Refused(string reason) =>
        new(MpcErrorCode.MalformedMessage, $"not a DER ECDSA signature: {reason}.");
}
