using Mpc.Crypto.Encoding;
using Mpc.Protocol.Messages;

namespace Mpc.Testing;

/// <summary>
/// A SignNonce as a hostile client would send it: the fields of <paramref name="nonce"/> in wire order, with a digest
/// of any length (the message type itself cannot hold an invalid one).
/// </summary>
public static class SignNonceWire
{
    public static byte[] WithDigest(SignNonce nonce, byte[] digest)
    {
        var writer = new WireWriter()
            .WriteBytes(nonce.ServerSessionId)
            .WriteBytes(nonce.ClientNonce)
            .WriteBytes(digest)
            .WriteUInt32(nonce.LowS ? 1u : 0u)
            .WriteBytes(nonce.R2);
        nonce.R2Proof.WriteTo(writer);
        return writer.ToArray();
    }
}
