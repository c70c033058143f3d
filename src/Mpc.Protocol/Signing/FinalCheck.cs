using System.Security.Cryptography;
using Mpc.Crypto;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Protocol.Signing;

/// <summary>
/// What a final signature check needs besides k1, public or server-held only: c3 (its proof already accepted), R2 as
/// received, r = x(k1·R2) mod q and the digest. Stored with the final-check marker before c3 is decrypted, so a check a
/// crash cut short can be re-run (<see cref="FinalCheck.Recheck(ServerKeyShare, string, FinalCheckRecord, ReadOnlySpan{byte})"/>).
/// </summary>
/// <param name="C3">c3, unsigned big-endian.</param>
/// <param name="R2">R2, compressed SEC1 point.</param>
/// <param name="R">r, the curve's fixed-length scalar encoding.</param>
/// <param name="Digest">The digest as the client sent it (its bytes: the record is stored; parsed again on a re-check).</param>
public sealed record FinalCheckRecord(byte[] C3, byte[] R2, byte[] R, byte[] Digest)
{
    public override string ToString() => "FinalCheckRecord";
}

/// <summary>Re-runs a final signature check from its <see cref="FinalCheckRecord"/>, without the spent nonce k1.</summary>
public static class FinalCheck
{
    /// <summary>
    /// The MAC that makes a final-check marker authentic: HMAC-SHA256, under a key only the server's share yields, over
    /// the key id, the device id and the record. A marker is written with it after c3's proof was accepted; a record
    /// without a valid tag was not written by this server (or was altered) and is never decrypted, since decrypting a
    /// c3 whose proof was never checked and reporting the outcome is the Lindell17 abort oracle on x1.
    /// </summary>
    public static byte[] Tag(ServerKeyShare share, string deviceId, FinalCheckRecord record)
    {
        ArgumentNullException.ThrowIfNull(share);
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentNullException.ThrowIfNull(record);
        byte[] message = new WireWriter()
            .WriteString(share.KeyId)
            .WriteString(deviceId)
            .WriteBytes(record.C3 ?? [])
            .WriteBytes(record.R2 ?? [])
            .WriteBytes(record.R ?? [])
            .WriteBytes(record.Digest ?? [])
            .ToArray();
        return HMACSHA256.HashData(share.FinalCheckKey, message);
    }

    /// <summary>True when <paramref name="tag"/> is <see cref="Tag"/> of this record for this share and device (constant time).</summary>
    public static bool IsAuthentic(ServerKeyShare share, string deviceId, FinalCheckRecord record, ReadOnlySpan<byte> tag)
    {
        byte[] expected = Tag(share, deviceId, record);
        return tag.Length == expected.Length && CryptographicOperations.FixedTimeEquals(expected, tag);
    }

    /// <summary>
    /// <see cref="Recheck(ServerKeyShare, FinalCheckRecord)"/> of a stored marker, after checking its tag: a record that
    /// is not authentic is refused (<see cref="MpcErrorCode.MalformedMessage"/>) before anything is decrypted.
    /// </summary>
    public static bool Recheck(ServerKeyShare share, string deviceId, FinalCheckRecord record, ReadOnlySpan<byte> tag)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!IsAuthentic(share, deviceId, record, tag))
        {
            throw ProtocolError.Malformed("the final-check marker is not authentic");
        }
        return Recheck(share, record);
    }

    /// <summary>
    /// With s' = centred Dec(c3) mod q, the signature (r, s = k1⁻¹·s') verifies exactly when s' ≠ 0 and
    /// m·G + r·Q = ±s'·R2: R = k1·R2 gives s·R = s'·R2, and ECDSA accepts when x(s⁻¹·(m·G + r·Q)) = x(R), i.e. when
    /// s⁻¹·(m·G + r·Q) = ±R. So the outcome the first check had (or would have had) is decided again, from the same c3,
    /// and no decryption of a new ciphertext happens. Throws <see cref="MpcProtocolException"/> on a malformed record:
    /// the caller must then treat the key as frozen. Internal: a record from storage goes through the tag-checking overload.
    /// </summary>
    internal static bool Recheck(ServerKeyShare share, FinalCheckRecord record)
    {
        ArgumentNullException.ThrowIfNull(share);
        ArgumentNullException.ThrowIfNull(record);
        if (record.C3 is not { Length: > 0 } || record.R2 is not { Length: > 0 } || record.R is not { Length: > 0 } || record.Digest is null)
        {
            throw ProtocolError.Malformed("the final-check record is incomplete");
        }
        EcCurve curve = EcCurve.Get(share.Curve);
        BigInteger q = curve.Order;
        BigInteger m = curve.DigestToScalar(Digest.Parse(record.Digest));
        ECPoint r2 = curve.DecodePoint(record.R2, "R2");
        BigInteger r = curve.DecodeScalar(record.R, "r");
        // Range-checked (0 < c3 < N², a unit) by the decryption itself.
        BigInteger sPrime = SignCiphertextProof.DecryptCentred(share.Paillier, new BigInteger(1, record.C3)).Mod(q);
        if (sPrime.SignValue == 0)
        {
            return false;
        }
        ECPoint expected = curve.SumOfTwoMultiplies(m, share.PublicKey, r);
        ECPoint actual = curve.MultiplySecret(r2, sPrime).Normalize();
        return !expected.IsInfinity && (expected.Equals(actual) || expected.Equals(actual.Negate().Normalize()));
    }
}
