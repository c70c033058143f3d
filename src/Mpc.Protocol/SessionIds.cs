using System.Security.Cryptography;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;

namespace Mpc.Protocol;

/// <summary>
/// Session identifiers both parties contribute to: SHA-256 over the wire framing of a purpose tag and
/// each party's fresh nonce, so neither side alone can make a session look like an earlier one.
/// An identifier, not a Fiat–Shamir challenge: proofs bind to it through their own transcripts.
/// </summary>
internal static class SessionIds
{
    public static byte[] ForKeyGen(ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce, string keyId, CurveKind curve) =>
        SHA256.HashData(new WireWriter()
            .WriteString("mpc-signer/keygen-session/v1")
            .WriteBytes(clientNonce)
            .WriteBytes(serverNonce)
            .WriteString(keyId)
            .WriteUInt32((uint)curve)
            .WrittenSpan);

    public static byte[] ForSigning(ReadOnlySpan<byte> serverSessionId, ReadOnlySpan<byte> clientNonce, string keyId, CurveKind curve) =>
        SHA256.HashData(new WireWriter()
            .WriteString("mpc-signer/sign-session/v1")
            .WriteBytes(serverSessionId)
            .WriteBytes(clientNonce)
            .WriteString(keyId)
            .WriteUInt32((uint)curve)
            .WrittenSpan);

    public static byte[] ForRefresh(ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce, string keyId, string targetDevice, CurveKind curve, string purpose, ReadOnlySpan<byte> publicKey) =>
        SHA256.HashData(new WireWriter()
            .WriteString("mpc-signer/refresh-session/v1")
            .WriteBytes(clientNonce)
            .WriteBytes(serverNonce)
            .WriteString(keyId)
            .WriteString(targetDevice)
            .WriteUInt32((uint)curve)
            .WriteString(purpose)
            .WriteBytes(publicKey)
            .WrittenSpan);
}
