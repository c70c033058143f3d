using System.Buffers.Binary;
using System.Security.Cryptography;
using Mpc.Crypto.Encoding;

namespace Mpc.Protocol.Audit;

/// <summary>
/// The hash chain of a key's audit log, shared by the server (which appends) and the SDK (which verifies).
/// hash_n = SHA-256(WireWriter fields: "mpc-signer/audit/v1", key id, sequence (8 bytes BE), timestamp in Unix
/// ms (8 bytes BE, signed), event, device id, digest, outcome, detail, hash_{n-1}); hash_0 is 32 zero bytes.
/// </summary>
/// <remarks>
/// The project's one encoding (length-prefixed fields) makes the input unambiguous; the domain string and the
/// key id bind a chain to its purpose and key, so entries cannot be moved between keys. SHA-256 rather than the
/// protocol's Transcript: a transcript is bound to a protocol session (session id, prover, curve) that an audit
/// entry does not have, and auditors can recompute SHA-256 with standard tools.
/// </remarks>
public static class AuditChain
{
    public const string Domain = "mpc-signer/audit/v1";

    public const int HashLength = 32;

    /// <summary>Longest detail text kept; longer text is cut by the recorder before hashing.</summary>
    public const int MaxDetailLength = 200;

    /// <summary>The "previous hash" of the first entry.</summary>
    public static byte[] GenesisHash() => new byte[HashLength];

    public static byte[] Hash(
        string keyId, long sequence, long timestampUnixMs, string eventName, string deviceId,
        ReadOnlySpan<byte> digest, string outcome, string detail, ReadOnlySpan<byte> previousHash)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        Span<byte> seq = stackalloc byte[8];
        Span<byte> ts = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(seq, sequence);
        BinaryPrimitives.WriteInt64BigEndian(ts, timestampUnixMs);
        var writer = new WireWriter()
            .WriteString(Domain)
            .WriteString(keyId)
            .WriteBytes(seq)
            .WriteBytes(ts)
            .WriteString(eventName ?? "")
            .WriteString(deviceId ?? "")
            .WriteBytes(digest)
            .WriteString(outcome ?? "")
            .WriteString(detail ?? "")
            .WriteBytes(previousHash);
        return SHA256.HashData(writer.WrittenSpan);
    }
}
