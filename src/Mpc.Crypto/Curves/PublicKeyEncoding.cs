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
