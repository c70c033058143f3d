using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// Schnorr proof of knowledge of x with X = x·G, made non-interactive through the <see cref="Transcript"/>.
/// Separated by purpose so a key-share proof can never stand in for a nonce proof.
/// </summary>
public sealed class DlogProof
{
    private DlogProof(byte[] commitment, byte[] response)
    {
        Commitment = commitment;
        Response = response;
    }

    /// <summary>A = a·G, SEC1 compressed.</summary>
    public byte[] Commitment { get; }

    /// <summary>z = a + e·x mod q, fixed-length big-endian.</summary>
    public byte[] Response { get; }

    public static DlogProof Prove(EcCurve curve, BigInteger secret, ECPoint publicPoint, ProofContext context, string purpose)
    {
        while (true)
        {
            BigInteger a = curve.RandomScalar();
            ECPoint commitment = curve.MultiplyBase(a);
            BigInteger e = Challenge(curve, publicPoint, commitment, context, purpose);
            BigInteger z = a.Add(e.Multiply(secret)).Mod(curve.Order);
            if (z.SignValue != 0)
            {
                return new DlogProof(curve.EncodePoint(commitment), curve.EncodeScalar(z));
            }
        }
    }

    /// <summary>Checks z·G = A + e·X; throws <see cref="MpcProtocolException"/> naming the failed check.</summary>
    public void Verify(EcCurve curve, ECPoint publicPoint, ProofContext context, string purpose)
    {
        ECPoint commitment = curve.DecodePoint(Commitment, $"{purpose} proof commitment");
        BigInteger z = curve.DecodeScalar(Response, $"{purpose} proof response");
        BigInteger e = Challenge(curve, publicPoint, commitment, context, purpose);
        // z·G − e·X = A, with both multiplications in one pass.
        ECPoint recomputed = curve.SumOfTwoMultiplies(z, publicPoint, curve.Order.Subtract(e));
        if (!recomputed.Equals(commitment))
        {
            throw Error.ProofFailed($"{purpose} Schnorr", "z·G ≠ A + e·X");
        }
    }

    public void WriteTo(WireWriter writer) => writer.WriteBytes(Commitment).WriteBytes(Response);

    public static DlogProof ReadFrom(ref WireReader reader, EcCurve curve) => new(
        reader.ReadByteArray("Schnorr commitment", curve.PointLength),
        reader.ReadByteArray("Schnorr response", curve.ScalarLength));

    public override string ToString() => "DlogProof";

    private static BigInteger Challenge(EcCurve curve, ECPoint publicPoint, ECPoint commitment, ProofContext context, string purpose) =>
        Transcript.Start("schnorr/" + purpose, context)
            .Append("G", curve.G)
            .Append("X", publicPoint)
            .Append("A", commitment)
            .ChallengeBelow("e", curve.Order);
}
