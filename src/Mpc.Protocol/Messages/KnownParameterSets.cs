using Mpc.Crypto.Encoding;
using Mpc.Crypto.Proofs;

namespace Mpc.Protocol.Messages;

/// <summary>
/// The one encoding of the "already verified" exchange shared by key generation and refresh: the server's list of
/// ring-Pedersen fingerprints in round 2, and the client's Πprm in round 3, present (1) or left out (0).
/// </summary>
internal static class KnownParameterSets
{
    public static WireWriter Write(WireWriter writer, IReadOnlyList<byte[]>? fingerprints)
    {
        IReadOnlyList<byte[]> list = fingerprints ?? [];
        if (list.Count > ProtocolLimits.MaxKnownParameterSets || list.Any(f => f.Length != RingPedersenParameters.FingerprintLength))
        {
            throw new ArgumentException("Too many known parameter sets, or a fingerprint of the wrong length.", nameof(fingerprints));
        }
        return writer.WriteList(list, (w, fingerprint) => w.WriteBytes(fingerprint));
    }

    public static IReadOnlyList<byte[]> Read(ref WireReader reader) =>
        reader.ReadListOfAtMost("known ring-Pedersen parameters", ProtocolLimits.MaxKnownParameterSets,
            (ref WireReader r) => r.ReadByteArray("ring-Pedersen fingerprint", RingPedersenParameters.FingerprintLength));

    public static void WriteProof(WireWriter writer, RingPedersenProof? proof)
    {
        writer.WriteUInt32(proof is null ? 0u : 1u);
        proof?.WriteTo(writer);
    }

    public static RingPedersenProof? ReadProof(ref WireReader reader) =>
        reader.ReadUInt32("ring-Pedersen proof present") switch
        {
            0 => null,
            1 => RingPedersenProof.ReadFrom(ref reader),
            _ => throw ProtocolError.Malformed("ring-Pedersen proof presence must be 0 or 1"),
        };

    /// <summary>Round 3 without Πprm for parameters the server did not name in round 2.</summary>
    public static Crypto.MpcProtocolException MissingProof() => new(Crypto.MpcErrorCode.ProofFailed,
        "Ring-Pedersen proof missing: this server has not verified these parameters for the user, so they need their proof (Πprm).");

    /// <summary>Whether <paramref name="parameters"/> are among the sets the server named.</summary>
    public static bool Includes(IReadOnlyList<byte[]>? fingerprints, RingPedersenParameters parameters)
    {
        if (fingerprints is not { Count: > 0 })
        {
            return false;
        }
        byte[] own = parameters.Fingerprint();
        return fingerprints.Any(f => f.AsSpan().SequenceEqual(own));
    }
}
