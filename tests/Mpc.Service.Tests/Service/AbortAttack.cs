using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Mpc.Transport.V1;
using Org.BouncyCastle.Math;

namespace Mpc.Service.Tests.Service;

/// <summary>A cheating client's signing attempt: the Lindell17 abort attack, which must freeze the key.</summary>
public static class AbortAttack
{
    /// <summary>Honest rounds up to c3, then c3 ⊕ c_key^(q·K), certain to wrap mod N; returns the status of the final call.</summary>
    public static async Task<StatusCode> SendAsync(RawSigner raw, MpcKey key, byte[]? digest = null)
    {
        var device = new { key.Share.DeviceId, ShareId = ByteString.CopyFrom(key.Share.ShareId) };
        SignCommitment commitment = SignCommitment.Decode((await raw.Client.BeginSignAsync(
            new BeginSignRequest { KeyId = key.KeyId, DeviceId = device.DeviceId, ShareId = device.ShareId }, raw.Headers)).Commitment.Span);
        var session = new SignClientSession(key.Share, digest ?? RandomNumberGenerator.GetBytes(32));
        SignNonceResponse opened = await raw.Client.SignNonceAsync(new SignNonceRequest
        {
            KeyId = key.KeyId,
            Nonce = ByteString.CopyFrom(session.HandleCommitment(commitment).Encode()),
            DeviceId = device.DeviceId,
            ShareId = device.ShareId,
        }, raw.Headers);
        SignCiphertext honest = session.HandleOpening(SignOpening.Decode(opened.Opening.Span, key.Curve));
        PaillierPublicKey paillier = key.Share.Paillier;
        BigInteger k = BigInteger.One.ShiftLeft(paillier.BitLength - 256 - 200);
        BigInteger crafted = paillier.Add(honest.C3, paillier.Multiply(key.Share.EncryptedServerShare, EcCurve.Get(key.Curve).Order.Multiply(k)));
        var request = new SignFinishRequest
        {
            KeyId = key.KeyId,
            SessionId = ByteString.CopyFrom(commitment.ServerSessionId),
            Ciphertext = ByteString.CopyFrom(new SignCiphertext(crafted).Encode()),
        };
        return await RawSigner.StatusOf(async () => await raw.Client.SignFinishAsync(request, raw.Headers));
    }
}
