using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;

namespace Mpc.Protocol.Tests;

public sealed record TwoPartyKey(ServerKeyShare Server, ClientKeyShare Client);

/// <summary>Runs both parties in one process, passing every message through its wire encoding.</summary>
public static class TwoParty
{
    public static TwoPartyKey KeyGen(CurveKind curve, RingPedersenSecret auxiliary, IBigNumBackend backend)
    {
        var client = new KeyGenClientSession(curve, auxiliary, backend);
        KeyGenRequest request = KeyGenRequest.Decode(client.Start().Encode());
        KeyGenServerOutput output;
        // Disposed before its reply is encoded, as the user grain does: the reply must not lose its commitment's opening.
        using (var server = new KeyGenServerSession(KeyIds.New(), backend))
        {
            KeyGenCommitment commitment = KeyGenCommitment.Decode(server.HandleRequest(request).Encode());
            KeyGenClientShare clientShare = KeyGenClientShare.Decode(client.HandleCommitment(commitment).Encode(), curve);
            output = server.HandleClientShare(clientShare);
        }
        ClientKeyShare clientKey = client.HandleServerShare(KeyGenServerShare.Decode(output.Message.Encode(), curve));
        return new TwoPartyKey(output.Share, clientKey);
    }

    public static EcdsaSignature Sign(TwoPartyKey key, byte[] digest, bool lowS = false, SignCiphertextRandomness? randomness = null)
    {
        CurveKind curve = key.Server.Curve;
        // The server's session names the device whose pair it is (the grain passes the stored device's id).
        var server = new SignServerSession(key.Server, key.Client.DeviceId);
        var client = new SignClientSession(key.Client, Digest.Parse(digest), lowS, randomness);
        SignNonce nonce = SignNonce.Decode(client.HandleCommitment(SignCommitment.Decode(server.Commitment.Encode())).Encode(), curve);
        SignOpening opening = SignOpening.Decode(server.HandleNonce(nonce).Encode(), curve);
        SignCiphertext ciphertext = SignCiphertext.Decode(client.HandleOpening(opening).Encode(), curve, key.Server.PaillierModulusBits);
        SignServerOutcome outcome = server.HandleCiphertext(ciphertext);
        Assert.False(outcome.KeyMustBeFrozen);
        EcdsaSignature signature = client.HandleResult(SignResult.Decode(outcome.Message!.Encode(), curve));
        Assert.Equal(outcome.Signature, signature);
        return signature;
    }

    /// <summary>The client's precomputed part of one signature's c3 and proof, as the SDK prepares it.</summary>
    public static SignCiphertextRandomness Randomness(ClientKeyShare client) =>
        SignCiphertextRandomness.Create(EcCurve.Get(client.Curve), client.Paillier, client.EncryptedServerShare, client.ServerRingPedersen!);

    public static byte[] DigestFor(CurveKind curve, byte[] document) =>
        curve == CurveKind.P384 ? System.Security.Cryptography.SHA384.HashData(document) : System.Security.Cryptography.SHA256.HashData(document);
}
