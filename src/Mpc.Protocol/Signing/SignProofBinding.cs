using Mpc.Crypto.Encoding;

namespace Mpc.Protocol.Signing;

/// <summary>
/// What a c3 proof is bound to beyond its <see cref="Crypto.Hashing.ProofContext"/> (session id, role, key id,
/// curve): the signing device, the digest and the share pair. Both parties build it from their own view, so a
/// proof made for another device, digest or share generation fails the server's check.
/// </summary>
internal static class SignProofBinding
{
    public static byte[] For(string deviceId, ReadOnlySpan<byte> digest, ReadOnlySpan<byte> shareId) => new WireWriter()
        .WriteString("mpc-signer/sign-proof-binding/v1")
        .WriteString(deviceId)
        .WriteBytes(digest)
        .WriteBytes(shareId)
        .ToArray();
}
