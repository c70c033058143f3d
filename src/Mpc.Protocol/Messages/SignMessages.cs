using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;

namespace Mpc.Protocol.Messages;

/// <summary>
/// Signing round 1, server → client: a commitment to R1 = k1·G. It may be handed out ahead of time
/// (with the previous signature) because it reveals nothing and binds the server's nonce before R2 exists.
/// </summary>
public sealed record SignCommitment(byte[] ServerSessionId, byte[] Commitment)
{
    public byte[] Encode() => new WireWriter().WriteBytes(ServerSessionId).WriteBytes(Commitment).ToArray();

    public static SignCommitment Decode(ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var message = new SignCommitment(
            reader.ReadByteArray("server session id", ProtocolLimits.ServerSessionIdLength),
            reader.ReadByteArray("commitment", HashCommitment.DigestLength));
        reader.EnsureEnd(nameof(SignCommitment));
        return message;
    }
}

/// <summary>
/// Signing round 2, client → server: the digest to sign, the client's session nonce, R2 = k2·G with its
/// Schnorr proof, and whether the client wants the low-S form.
/// </summary>
public sealed record SignNonce(byte[] ServerSessionId, byte[] ClientNonce, Digest Digest, bool LowS, byte[] R2, DlogProof R2Proof)
{
    public byte[] Encode()
    {
        var writer = new WireWriter()
            .WriteBytes(ServerSessionId)
            .WriteBytes(ClientNonce)
            .WriteBytes(Digest.Span)
            .WriteUInt32(LowS ? 1u : 0u)
            .WriteBytes(R2);
        R2Proof.WriteTo(writer);
        return writer.ToArray();
    }

    public static SignNonce Decode(ReadOnlySpan<byte> data, CurveKind curveKind)
    {
        EcCurve curve = EcCurve.Get(curveKind);
        var reader = new WireReader(data);
        byte[] sessionId = reader.ReadByteArray("server session id", ProtocolLimits.ServerSessionIdLength);
        byte[] nonce = reader.ReadByteArray("client nonce", ProtocolLimits.NonceLength);
        // Read at the wire's own bound, so a digest of any wrong length, over-long included, gets the one digest refusal.
        Digest digest = Digest.Parse(reader.ReadBytes("digest"));
        uint lowS = reader.ReadUInt32("low-S flag");
        if (lowS > 1)
        {
            throw new Crypto.MpcProtocolException(Crypto.MpcErrorCode.MalformedMessage, "Malformed message: low-S flag must be 0 or 1.");
        }
        byte[] r2 = reader.ReadByteArray("R2", curve.PointLength);
        DlogProof proof = DlogProof.ReadFrom(ref reader, curve);
        reader.EnsureEnd(nameof(SignNonce));
        return new SignNonce(sessionId, nonce, digest, lowS == 1, r2, proof);
    }
}

/// <summary>Signing round 3, server → client: the opening of R1 (point and salt) and the proof of k1.</summary>
public sealed record SignOpening(byte[] R1, byte[] CommitmentSalt, DlogProof R1Proof)
{
    public byte[] Encode()
    {
        var writer = new WireWriter().WriteBytes(R1).WriteBytes(CommitmentSalt);
        R1Proof.WriteTo(writer);
        return writer.ToArray();
    }

    public static SignOpening Decode(ReadOnlySpan<byte> data, CurveKind curveKind)
    {
        EcCurve curve = EcCurve.Get(curveKind);
        var reader = new WireReader(data);
        var message = new SignOpening(
            reader.ReadByteArray("R1", curve.PointLength),
            reader.ReadByteArray("commitment salt", HashCommitment.SaltLength),
            DlogProof.ReadFrom(ref reader, curve));
        reader.EnsureEnd(nameof(SignOpening));
        return message;
    }
}

/// <summary>
/// Signing round 4, client → server: c3 = c_key^α · Enc(ρ·q + k2⁻¹·m') with α = k2⁻¹·r·x2, and the proof (Πaff-g)
/// that c3 has this shape with α, β in range, which the server checks before it decrypts anything.
/// </summary>
public sealed record SignCiphertext(BigInteger C3, SignCiphertextProof Proof)
{
    public byte[] Encode()
    {
        var writer = new WireWriter().WriteBigInteger(C3);
        Proof.WriteTo(writer);
        return writer.ToArray();
    }

    /// <summary>Decodes with bounds from the key's own modulus: c3 below N², every proof field within its range.</summary>
    public static SignCiphertext Decode(ReadOnlySpan<byte> data, CurveKind curveKind, int paillierModulusBits)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(paillierModulusBits, ProtocolLimits.MaxModulusBits);
        EcCurve curve = EcCurve.Get(curveKind);
        var reader = new WireReader(data);
        var message = new SignCiphertext(
            reader.ReadBigInteger("c3", 2 * paillierModulusBits),
            SignCiphertextProof.ReadFrom(ref reader, curve, paillierModulusBits));
        reader.EnsureEnd(nameof(SignCiphertext));
        return message;
    }
}

/// <summary>Signing round 5, server → client: the verified signature.</summary>
public sealed record SignResult(byte[] R, byte[] S, int RecoveryId)
{
    public byte[] Encode() => new WireWriter().WriteBytes(R).WriteBytes(S).WriteUInt32((uint)RecoveryId).ToArray();

    public static SignResult Decode(ReadOnlySpan<byte> data, CurveKind curveKind)
    {
        EcCurve curve = EcCurve.Get(curveKind);
        var reader = new WireReader(data);
        byte[] r = reader.ReadByteArray("r", curve.ScalarLength);
        byte[] s = reader.ReadByteArray("s", curve.ScalarLength);
        uint recoveryId = reader.ReadUInt32("recovery id");
        reader.EnsureEnd(nameof(SignResult));
        if (recoveryId > 3)
        {
            throw new Crypto.MpcProtocolException(Crypto.MpcErrorCode.MalformedMessage, "Malformed message: recovery id must be 0 to 3.");
        }
        return new SignResult(r, s, (int)recoveryId);
    }
}
