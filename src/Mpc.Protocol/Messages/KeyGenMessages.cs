using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;
using Org.BouncyCastle.Math;

namespace Mpc.Protocol.Messages;

/// <summary>Key generation round 1, client → server: the curve and the client's session nonce.</summary>
public sealed record KeyGenRequest(CurveKind Curve, byte[] ClientNonce)
{
    public byte[] Encode() => new WireWriter().WriteUInt32((uint)Curve).WriteBytes(ClientNonce).ToArray();

    public static KeyGenRequest Decode(ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        CurveKind curve = EcCurve.ReadFrom(ref reader).Kind;
        byte[] nonce = reader.ReadByteArray("client nonce", ProtocolLimits.NonceLength);
        reader.EnsureEnd(nameof(KeyGenRequest));
        return new KeyGenRequest(curve, nonce);
    }
}

/// <summary>
/// Key generation round 2, server → client: the key id, the server's nonce, a commitment to (Q1, proof of x1) so the
/// server's share cannot depend on the client's, and the names (salted with the server nonce) of the client
/// ring-Pedersen parameter sets the server has already verified for this user (<see cref="VerifiedRingPedersenCache"/>):
/// a client whose set is named (<see cref="Names"/>) leaves its Πprm out of round 3.
/// </summary>
public sealed record KeyGenCommitment(string KeyId, byte[] ServerNonce, byte[] Commitment, IReadOnlyList<byte[]>? KnownClientParameters = null)
{
    /// <summary>Whether this round 2 names <paramref name="parameters"/> as already verified (then round 3 may leave out their Πprm).</summary>
    public bool Names(RingPedersenParameters parameters) => KnownParameterSets.Names(KnownClientParameters, ServerNonce, parameters);

    public byte[] Encode()
    {
        var writer = new WireWriter().WriteString(KeyId).WriteBytes(ServerNonce).WriteBytes(Commitment);
        return KnownParameterSets.Write(writer, KnownClientParameters).ToArray();
    }

    public static KeyGenCommitment Decode(ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var message = new KeyGenCommitment(
            reader.ReadString("key id", ProtocolLimits.MaxKeyIdLength),
            reader.ReadByteArray("server nonce", ProtocolLimits.NonceLength),
            reader.ReadByteArray("commitment", Crypto.Hashing.HashCommitment.DigestLength),
            KnownParameterSets.Read(ref reader));
        reader.EnsureEnd(nameof(KeyGenCommitment));
        return message;
    }
}

/// <summary>
/// Key generation round 3, client → server: Q2 = x2·G with its Schnorr proof, and the client's own ring-Pedersen
/// parameters (for the server's proofs to the client) with their well-formedness proof, which is null when round 2
/// named these parameters as already verified.
/// </summary>
public sealed record KeyGenClientShare(byte[] Q2, DlogProof Q2Proof, RingPedersenParameters RingPedersen, RingPedersenProof? RingPedersenProof)
{
    public byte[] Encode()
    {
        var writer = new WireWriter().WriteBytes(Q2);
        Q2Proof.WriteTo(writer);
        RingPedersen.WriteTo(writer);
        KnownParameterSets.WriteProof(writer, RingPedersenProof);
        return writer.ToArray();
    }

    public static KeyGenClientShare Decode(ReadOnlySpan<byte> data, CurveKind curveKind)
    {
        EcCurve curve = EcCurve.Get(curveKind);
        var reader = new WireReader(data);
        var message = new KeyGenClientShare(
            reader.ReadByteArray("Q2", curve.PointLength),
            DlogProof.ReadFrom(ref reader, curve),
            RingPedersenParameters.ReadFrom(ref reader),
            KnownParameterSets.ReadProof(ref reader));
        reader.EnsureEnd(nameof(KeyGenClientShare));
        return message;
    }
}

/// <summary>
/// Key generation round 4, server → client: the opening of the round-2 commitment (Q1, its proof, the salt)
/// and the <see cref="EncryptedShareSetup"/>: N with its Paillier–Blum and no-small-factor proofs, c_key = Enc(x1)
/// with the proof that it encrypts the discrete log of Q1 within range, and the server's ring-Pedersen (s, t) with Πprm.
/// </summary>
public sealed record KeyGenServerShare(byte[] Q1, DlogProof Q1Proof, byte[] CommitmentSalt, EncryptedShareSetup Setup)
{
    public byte[] Encode()
    {
        var writer = new WireWriter().WriteBytes(Q1);
        Q1Proof.WriteTo(writer);
        writer.WriteBytes(CommitmentSalt);
        Setup.WriteTo(writer);
        return writer.ToArray();
    }

    public static KeyGenServerShare Decode(ReadOnlySpan<byte> data, CurveKind curveKind)
    {
        EcCurve curve = EcCurve.Get(curveKind);
        var reader = new WireReader(data);
        var message = new KeyGenServerShare(
            reader.ReadByteArray("Q1", curve.PointLength),
            DlogProof.ReadFrom(ref reader, curve),
            reader.ReadByteArray("commitment salt", Crypto.Hashing.HashCommitment.SaltLength),
            EncryptedShareSetup.ReadFrom(ref reader, curve));
        reader.EnsureEnd(nameof(KeyGenServerShare));
        return message;
    }

    /// <summary>The bytes the round-2 commitment covers: Q1 and its proof.</summary>
    internal static byte[] CommittedPayload(byte[] q1, DlogProof proof)
    {
        var writer = new WireWriter().WriteBytes(q1);
        proof.WriteTo(writer);
        return writer.ToArray();
    }

    internal byte[] CommittedPayload() => CommittedPayload(Q1, Q1Proof);
}
