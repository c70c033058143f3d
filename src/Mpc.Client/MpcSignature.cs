using Mpc.Crypto.Curves;

namespace Mpc.Client;

/// <summary>
/// An ECDSA signature made with a split key, verified against the key's public key before it was returned. It is a
/// standard signature: any ECDSA verifier accepts it (<see cref="ToDer"/> for OpenSSL and X.509, <see cref="ToP1363"/>
/// for .NET's <c>ECDsa.VerifyHash</c>).
/// </summary>
public sealed class MpcSignature
{
    private readonly byte[] _r;
    private readonly byte[] _s;
    private readonly byte[] _der;

    internal MpcSignature(CurveKind curve, EcdsaSignature signature)
    {
        int length = EcCurve.Get(curve).ScalarLength;
        byte[] p1363 = signature.ToP1363(length);
        _r = p1363[..length];
        _s = p1363[length..];
        _der = signature.ToDer();
        Curve = curve;
        RecoveryId = signature.RecoveryId;
    }

    /// <summary>(r, s) and the recovery id as the crypto layer's signature: the one conversion back, for verifiers.</summary>
    internal EcdsaSignature ToEcdsaSignature() =>
        new(new Org.BouncyCastle.Math.BigInteger(1, _r), new Org.BouncyCastle.Math.BigInteger(1, _s), RecoveryId);

    /// <summary>The curve of the key that signed.</summary>
    public CurveKind Curve { get; }

    /// <summary>r as an unsigned big-endian integer of the curve's scalar length (a copy).</summary>
    public byte[] R => (byte[])_r.Clone();

    /// <summary>s as an unsigned big-endian integer of the curve's scalar length (a copy).</summary>
    public byte[] S => (byte[])_s.Clone();

    /// <summary>The recovery id of R (bit 0: y parity, bit 1: x overflowed the order), as Ethereum's v - 27.</summary>
    public int RecoveryId { get; }

    /// <summary>ASN.1 DER SEQUENCE { r INTEGER, s INTEGER }, as OpenSSL, X.509 and CMS expect.</summary>
    public byte[] ToDer() => (byte[])_der.Clone();

    /// <summary>IEEE P1363 fixed-length r ‖ s, as .NET's <c>ECDsa.VerifyHash</c> expects.</summary>
    public byte[] ToP1363() => [.. _r, .. _s];

    public override string ToString() => $"MpcSignature({EcCurve.NameOf(Curve)}, r={Convert.ToHexStringLower(_r)}, s={Convert.ToHexStringLower(_s)})";
}
