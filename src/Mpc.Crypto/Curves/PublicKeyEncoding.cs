using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Curves;

/// <summary>The joint public key in the forms other tools read: SubjectPublicKeyInfo DER and PEM.</summary>
public static class PublicKeyEncoding
{
    /// <summary>X.509 SubjectPublicKeyInfo with the named-curve OID and an uncompressed point.</summary>
    public static byte[] ToSubjectPublicKeyInfo(EcCurve curve, ECPoint publicKey)
    {
        var algorithm = new AlgorithmIdentifier(X9ObjectIdentifiers.IdECPublicKey, CurveOid(curve.Kind));
        return new SubjectPublicKeyInfo(algorithm, publicKey.Normalize().GetEncoded(false)).GetEncoded(Asn1Encodable.Der);
    }

    /// <summary>"-----BEGIN PUBLIC KEY-----" PEM, as <c>openssl pkey -pubin</c> reads it.</summary>
    public static string ToPem(EcCurve curve, ECPoint publicKey) =>
        new string(System.Security.Cryptography.PemEncoding.Write("PUBLIC KEY", ToSubjectPublicKeyInfo(curve, publicKey))) + "\n";

    /// <summary>
    /// The point in a PEM exactly as <see cref="ToPem"/> writes it for <paramref name="curve"/> (named-curve SPKI,
    /// uncompressed valid point, same bytes when written again): one canonical spelling per key.
    /// </summary>
    /// <exception cref="FormatException">Anything else, in one line that names no key material.</exception>
    public static ECPoint FromPem(EcCurve curve, string pem)
    {
        if (!System.Security.Cryptography.PemEncoding.TryFind(pem, out System.Security.Cryptography.PemFields fields)
            || pem[fields.Label] is not "PUBLIC KEY")
        {
            throw new FormatException("not a PUBLIC KEY PEM");
        }
        byte[] der;
        try
        {
            der = Convert.FromBase64String(pem[fields.Base64Data].ToString());
        }
        catch (FormatException)
        {
            throw new FormatException("not a valid public key");
        }
        // FromSubjectPublicKeyInfo turns every parsing failure into a FormatException of its own.
        (EcCurve named, ECPoint point) = FromSubjectPublicKeyInfo(der);
        if (named.Kind != curve.Kind)
        {
            throw new FormatException("not a key on the named curve");
        }
        return string.Equals(ToPem(curve, point), pem, StringComparison.Ordinal)
            ? point
            : throw new FormatException("not a canonical key on the named curve");
    }

    /// <summary>
    /// The curve and point of a DER SubjectPublicKeyInfo exactly as <see cref="ToSubjectPublicKeyInfo"/> writes it:
    /// id-ecPublicKey, a named curve the service signs on, an uncompressed valid point, no trailing bytes.
    /// </summary>
    /// <exception cref="FormatException">Anything else, in one line that names no key material.</exception>
    public static (EcCurve Curve, ECPoint Point) FromSubjectPublicKeyInfo(ReadOnlySpan<byte> der)
    {
        try
        {
            // The algorithm and the curve are read before any point: a key of another kind is refused as such.
            // An empty input parses to no object at all (null), not to an error.
            var info = SubjectPublicKeyInfo.GetInstance(Asn1Object.FromByteArray(der.ToArray()))
                ?? throw new FormatException("not a valid public key");
            if (!info.Algorithm.Algorithm.Equals(Org.BouncyCastle.Asn1.X9.X9ObjectIdentifiers.IdECPublicKey)
                || info.Algorithm.Parameters is not DerObjectIdentifier oid
                || CurveOf(oid) is not { } kind)
            {
                throw new FormatException("not a key on a curve the service signs on");
            }
            EcCurve curve = EcCurve.Get(kind);
            byte[] uncompressed = info.PublicKey.GetOctets();
            if (uncompressed.Length != 1 + 2 * curve.FieldLength || uncompressed[0] != 0x04)
            {
                throw new FormatException("not an uncompressed point");
            }
            byte[] compressed = new byte[1 + curve.FieldLength];
            compressed[0] = (byte)(0x02 | (uncompressed[^1] & 1));
            uncompressed.AsSpan(1, curve.FieldLength).CopyTo(compressed.AsSpan(1));
            ECPoint point = curve.DecodePoint(compressed, "public key");
            // Written again, the key must be the same bytes: this is what checks y, of which the compression kept one bit.
            return ToSubjectPublicKeyInfo(curve, point).AsSpan().SequenceEqual(der)
                ? (curve, point)
                : throw new FormatException("not a canonical key on the named curve");
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or InvalidCastException or IOException or MpcProtocolException
            or Org.BouncyCastle.Asn1.Asn1Exception)
        {
            throw new FormatException("not a valid public key", e);
        }
    }

    /// <summary>The curve a named-curve OID stands for; null for any curve the service does not sign on. The one OID table, both ways.</summary>
    public static CurveKind? CurveOf(DerObjectIdentifier oid) =>
        Enum.GetValues<CurveKind>().Select(kind => (CurveKind?)kind).FirstOrDefault(kind => CurveOid(kind!.Value).Equals(oid));

    private static DerObjectIdentifier CurveOid(CurveKind kind) => kind switch
    {
        CurveKind.Secp256k1 => Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP256k1,
        CurveKind.P256 => Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP256r1,
        CurveKind.P384 => Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP384r1,
        _ => throw new MpcProtocolException(MpcErrorCode.UnsupportedCurve, $"Curve {(int)kind} is not supported."),
    };
}
