using Mpc.Crypto.Encoding;
using Mpc.Crypto.Proofs;

namespace Mpc.Protocol.Messages;

/// <summary>
/// The one encoding of the "already verified" exchange shared by key generation and refresh: the server's list of
/// names of remembered ring-Pedersen sets in round 2 (<see cref="Name"/>), and the client's Πprm in round 3, present (1)
/// or left out (0).
/// </summary>
internal static class KnownParameterSets
{
    public static WireWriter Write(WireWriter writer, IReadOnlyList<byte[]>? names)
    {
        IReadOnlyList<byte[]> list = names ?? [];
        if (list.Count > ProtocolLimits.MaxKnownParameterSets || list.Any(n => n.Length != RingPedersenParameters.FingerprintLength))
        {
            throw new ArgumentException("Too many known parameter sets, or a name of the wrong length.", nameof(names));
        }
        return writer.WriteList(list, (w, name) => w.WriteBytes(name));
    }

    public static IReadOnlyList<byte[]> Read(ref WireReader reader) =>
        reader.ReadListOfAtMost("known ring-Pedersen parameters", ProtocolLimits.MaxKnownParameterSets,
            (ref WireReader r) => r.ReadByteArray("ring-Pedersen set name", RingPedersenParameters.FingerprintLength));

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

    /// <summary>
    /// How round 2 names a remembered set: SHA-256 of a label, this session's server nonce and the set's fingerprint. Salted
    /// per session, so the names in one round 2 cannot be matched with another's (another session, or another user's
    /// account used from the same device); the list is sent in byte order, not in order of use.
    /// </summary>
    public static byte[] Name(ReadOnlySpan<byte> serverNonce, ReadOnlySpan<byte> fingerprint) =>
        System.Security.Cryptography.SHA256.HashData(
            new WireWriter().WriteString("mpc-signer/known-ring-pedersen/v1").WriteBytes(serverNonce).WriteBytes(fingerprint).WrittenSpan);

    /// <summary>Round 2's list for these remembered fingerprints.</summary>
    public static IReadOnlyList<byte[]> Names(ReadOnlySpan<byte> serverNonce, IReadOnlyList<byte[]> fingerprints)
    {
        var names = new List<byte[]>(fingerprints.Count);
        foreach (byte[] fingerprint in fingerprints)
        {
            names.Add(Name(serverNonce, fingerprint));
        }
        names.Sort((a, b) => a.AsSpan().SequenceCompareTo(b));
        return names;
    }

    /// <summary>Client side: whether round 2 (<paramref name="names"/>, salted with <paramref name="serverNonce"/>) names <paramref name="parameters"/>.</summary>
    public static bool Names(IReadOnlyList<byte[]>? names, ReadOnlySpan<byte> serverNonce, RingPedersenParameters parameters)
    {
        if (names is not { Count: > 0 })
        {
            return false;
        }
        byte[] own = Name(serverNonce, parameters.Fingerprint());
        return names.Any(name => name.AsSpan().SequenceEqual(own));
    }

    /// <summary>Server side: whether <paramref name="fingerprint"/> is among the remembered <paramref name="fingerprints"/>.</summary>
    public static bool Includes(IReadOnlyList<byte[]> fingerprints, byte[] fingerprint) =>
        fingerprints.Any(f => f.AsSpan().SequenceEqual(fingerprint));
}
