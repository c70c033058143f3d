using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Mpc.Transport.V1;
using Org.BouncyCastle.Math;

namespace Mpc.Testing;

/// <summary>
/// A cheating client's signing attempt: the Lindell17 abort attack. With the c3 proof the server refuses it before
/// decrypting anything (InvalidArgument, ProofFailed), so it no longer freezes the key.
/// </summary>
public static class AbortAttack
{
    /// <summary>
    /// Honest rounds up to c3 and its proof, then c3 ⊕ c_key^(q·K) (certain to wrap mod N if it were decrypted) sent
    /// with the honest proof; returns the status of the final call.
    /// </summary>
    public static async Task<StatusCode> SendAsync(RawSigner raw, MpcKey key, byte[]? digest = null) =>
        (await SendForDetailAsync(raw, key, digest)).Status;

    /// <summary>As <see cref="SendAsync"/>, with the server's status detail.</summary>
    public static async Task<(StatusCode Status, string Detail)> SendForDetailAsync(RawSigner raw, MpcKey key, byte[]? digest = null)
    {
        var device = new { key.Share.DeviceId, ShareId = ByteString.CopyFrom(key.Share.ShareId) };
        SignCommitment commitment = SignCommitment.Decode((await raw.Client.BeginSignAsync(
            new BeginSignRequest { KeyId = key.KeyId, DeviceId = device.DeviceId, ShareId = device.ShareId }, raw.Headers)).Commitment.Span);
        var session = new SignClientSession(key.Share, Digest.Parse(digest ?? RandomNumberGenerator.GetBytes(32)));
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
            Ciphertext = ByteString.CopyFrom((honest with { C3 = crafted }).Encode()),
        };
        try
        {
            await raw.Client.SignFinishAsync(request, raw.Headers);
            return (StatusCode.OK, "");
        }
        catch (RpcException e)
        {
            return (e.StatusCode, e.Status.Detail);
        }
    }
}

/// <summary>
/// A frozen key for the tests of what follows a freeze (refusals, operator unfreeze, forced refresh). An honest client
/// can no longer cause one (the c3 proof refuses every abort-attack c3 before decryption), so the test writes the
/// frozen status into storage as the server's freeze writes it, with the server stopped. The server restarts on a new
/// port: make clients after this call.
/// </summary>
public static class FrozenKeys
{
    public static async Task FreezeInStorageAsync(this ServerFixture server, string user, string keyId, string deviceId = "primary")
    {
        await server.StopAsync();
        try
        {
            StoredKeys stored = await StoredKeys.ReadAsync(server.DataDirectory, user);
            StoredKey key = stored.Keys.Keys[keyId];
            key.Status = Mpc.Grains.Abstractions.KeyStatus.Frozen;
            key.FrozenAt ??= DateTimeOffset.UtcNow;
            key.FrozenReason ??= "final signature check failed";
            key.FrozenDevice ??= deviceId;
            await stored.WriteAsync();
        }
        finally
        {
            await server.StartAsync();
        }
    }
}
