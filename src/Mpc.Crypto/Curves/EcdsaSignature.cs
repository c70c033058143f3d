using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Utilities;

namespace Mpc.Crypto.Curves;

/// <summary>A standard ECDSA signature (r, s) with the recovery id of R; verifies with any ECDSA verifier.</summary>
public sealed record EcdsaSignature(BigInteger R, BigInteger S, int RecoveryId)
{
    /// <summary>ASN.1 DER SEQUENCE { r INTEGER, s INTEGER }, as OpenSSL and X.509 expect.</summary>
    public byte[] ToDer() => new DerSequence(new DerInteger(R), new DerInteger(S)).GetEncoded(Asn1Encodable.Der);

    /// <summary>IEEE P1363 fixed-length r ‖ s, as .NET's <c>ECDsa.VerifyHash</c> expects.</summary>
    public byte[] ToP1363(int scalarLength) =>
        Arrays.Concatenate(BigIntegers.AsUnsignedByteArray(scalarLength, R), BigIntegers.AsUnsignedByteArray(scalarLength, S));

    /// <summary>Whether s is in the lower half of the order (the form Bitcoin and Ethereum require).</summary>
    public bool IsLowS(EcCurve curve) => S.CompareTo(curve.HalfOrder) <= 0;

    /// <summary>The equivalent signature with s ≤ q/2; negating s flips the parity bit of the recovery id.</summary>
    public EcdsaSignature NormalizeLowS(EcCurve curve) =>
        IsLowS(curve) ? this : new EcdsaSignature(R, curve.Order.Subtract(S), RecoveryId ^ 1);
}
