using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;

namespace Mpc.Protocol.Messages;

/// <summary>Why a refresh runs; bound into its session id, so a transcript of one purpose never serves another.</summary>
public enum RefreshPurpose
{
    /// <summary>A device replaces its own share pair.</summary>
    Refresh = 1,

    /// <summary>A new device derives its own share pair from a share handed over by an existing device.</summary>
    Enrol = 2,

    /// <summary>A backup share pair is derived from a device's, for the client to wrap with a passphrase.</summary>
    Backup = 3,

    /// <summary>A new device derives its share pair from a backup, which is consumed.</summary>
    Restore = 4,

    /// <summary>An imported key: the server's starting share came from the client, which split the whole key.</summary>
    Import = 5,
}

/// <summary>Refresh round 1, client → server: the purpose, the curve and the client's session nonce.</summary>
public sealed record RefreshRequest(RefreshPurpose Purpose, CurveKind Curve, byte[] ClientNonce)
{
    public byte[] Encode() => new WireWriter().WriteUInt32((uint)Purpose).WriteUInt32((uint)Curve).WriteBytes(ClientNonce).ToArray();

    public static RefreshRequest Decode(ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        uint purpose = reader.ReadUInt32("purpose");
        if (purpose is < (uint)RefreshPurpose.Refresh or > (uint)RefreshPurpose.Import)
        {
            throw ProtocolError.Malformed("refresh purpose");
        }
        CurveKind curve = EcCurve.ReadFrom(ref reader).Kind;
        byte[] nonce = reader.ReadByteArray("client nonce", ProtocolLimits.NonceLength);
        reader.EnsureEnd(nameof(RefreshRequest));
        return new RefreshRequest((RefreshPurpose)purpose, curve, nonce);
    }
}

/// <summary>
/// Refresh round 2, server → client: the key and the device the new share pair will belong to, the server's
/// nonce, a commitment to its random factor r1, fixed before the client's factor is seen, and the names of the client
/// ring-Pedersen parameter sets already verified for this user (as in <see cref="KeyGenCommitment"/>).
/// </summary>
public sealed record RefreshCommitment(string KeyId, string TargetDeviceId, byte[] ServerNonce, byte[] Commitment, IReadOnlyList<byte[]>? KnownClientParameters = null)
{
    /// <summary>Whether this round 2 names <paramref name="parameters"/> as already verified (then round 3 may leave out their Πprm).</summary>
    public bool Names(RingPedersenParameters parameters) => KnownParameterSets.Names(KnownClientParameters, ServerNonce, parameters);

    public byte[] Encode()
    {
        var writer = new WireWriter().WriteString(KeyId).WriteString(TargetDeviceId).WriteBytes(ServerNonce).WriteBytes(Commitment);
        return KnownParameterSets.Write(writer, KnownClientParameters).ToArray();
    }

    public static RefreshCommitment Decode(ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var message = new RefreshCommitment(
            reader.ReadString("key id", ProtocolLimits.MaxKeyIdLength),
            reader.ReadString("device id", ProtocolLimits.MaxKeyIdLength),
            reader.ReadByteArray("server nonce", ProtocolLimits.NonceLength),
            reader.ReadByteArray("commitment", HashCommitment.DigestLength),
            KnownParameterSets.Read(ref reader));
        reader.EnsureEnd(nameof(RefreshCommitment));
        return message;
    }
}

/// <summary>
/// Refresh round 3, client → server: the client's random factor r2 and its ring-Pedersen parameters for the server's
/// proofs about the new Paillier key, with their proof unless round 2 named them as already verified (then null).
/// </summary>
public sealed record RefreshContribution(byte[] Factor, RingPedersenParameters RingPedersen, RingPedersenProof? RingPedersenProof)
{
    public byte[] Encode()
    {
        var writer = new WireWriter().WriteBytes(Factor);
        RingPedersen.WriteTo(writer);
        KnownParameterSets.WriteProof(writer, RingPedersenProof);
        return writer.ToArray();
    }

    public static RefreshContribution Decode(ReadOnlySpan<byte> data, CurveKind curveKind)
    {
        EcCurve curve = EcCurve.Get(curveKind);
        var reader = new WireReader(data);
        var message = new RefreshContribution(
            reader.ReadByteArray("factor r2", curve.ScalarLength),
            RingPedersenParameters.ReadFrom(ref reader),
            KnownParameterSets.ReadProof(ref reader));
        reader.EnsureEnd(nameof(RefreshContribution));
        return message;
    }
}

/// <summary>
/// Refresh round 4, server → client: the opening of r1, Q1' = x1'·G for the new server share x1' = x1·r1·r2,
/// and a fresh Paillier key with c_key' = Enc(x1') and its proofs.
/// </summary>
public sealed record RefreshServerShare(byte[] Factor, byte[] CommitmentSalt, byte[] Q1, EncryptedShareSetup Setup)
{
    public byte[] Encode()
    {
        var writer = new WireWriter().WriteBytes(Factor).WriteBytes(CommitmentSalt).WriteBytes(Q1);
        Setup.WriteTo(writer);
        return writer.ToArray();
    }

    public static RefreshServerShare Decode(ReadOnlySpan<byte> data, CurveKind curveKind)
    {
        EcCurve curve = EcCurve.Get(curveKind);
        var reader = new WireReader(data);
        var message = new RefreshServerShare(
            reader.ReadByteArray("factor r1", curve.ScalarLength),
            reader.ReadByteArray("commitment salt", HashCommitment.SaltLength),
            reader.ReadByteArray("Q1", curve.PointLength),
            EncryptedShareSetup.ReadFrom(ref reader, curve));
        reader.EnsureEnd(nameof(RefreshServerShare));
        return message;
    }
}

/// <summary>
/// Refresh round 5, client → server: Q2' = x2'·G with a proof of x2'. The server switches to the new pair only
/// when x1'·Q2' is the unchanged public key: the client demonstrably holds the matching share.
/// </summary>
public sealed record RefreshConfirmation(byte[] Q2, DlogProof Q2Proof)
{
    public byte[] Encode()
    {
        var writer = new WireWriter().WriteBytes(Q2);
        Q2Proof.WriteTo(writer);
        return writer.ToArray();
    }

    public static RefreshConfirmation Decode(ReadOnlySpan<byte> data, CurveKind curveKind)
    {
        EcCurve curve = EcCurve.Get(curveKind);
        var reader = new WireReader(data);
        var message = new RefreshConfirmation(reader.ReadByteArray("Q2", curve.PointLength), DlogProof.ReadFrom(ref reader, curve));
        reader.EnsureEnd(nameof(RefreshConfirmation));
        return message;
    }
}
