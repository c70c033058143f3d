using System.Security.Cryptography;
using Mpc.Client.Custody;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;
using Org.BouncyCastle.Math;

namespace Mpc.Client.Tests.Custody;

/// <summary>
/// Review PoC. docs/key-custody.md says "A forged handover therefore enrols nothing", because "the enrol refresh
/// succeeds only if the server holds the matching x1". That holds against a third party, not against the signing
/// server itself: the request token is public and its confirmation code is a public function of the token, so
/// whoever holds the token can seal a share to it; the new device knows only the key id it asked for, never the
/// key's public key. A server that also gets its handover to the new device can therefore hand it a key of the
/// requested id whose both halves it made itself; the enrol refresh passes every check and the new device then
/// "signs" with a key the server holds whole.
/// </summary>
public sealed class ForgedHandoverTests
{
    [Fact]
    public void A_new_device_must_not_enrol_into_a_key_the_server_made_whole_from_a_forged_handover()
    {
        IBigNumBackend backend = BigNumBackends.Create(BigNumBackendKind.Auto);
        string keyId = KeyIds.New(); // the genuine key the user wants on the new device
        CurveKind curve = CurveKind.Secp256k1;

        // New device: the request (its token travels by "any channel"; the code is shown on screen only).
        using DeviceEnrolmentRequest pending = DeviceEnrolmentRequest.Create(keyId);
        string token = pending.Request.ToToken();

        // Malicious server: a fresh key pair under the requested key id, both halves made by itself.
        using RingPedersenSecret puppetAuxiliary = RingPedersenSecret.Generate(backend);
        (ServerKeyShare forgedServer, ClientKeyShare forgedClient) = KeyGen(keyId, curve, puppetAuxiliary, backend);
        EcCurve c = EcCurve.Get(curve);
        BigInteger wholeKey = forgedServer.X1.Multiply(forgedClient.X2).Mod(c.Order);

        // The confirmation code is computable from the token alone: no secret of the user's is needed to seal.
        string code = EnrolmentRequest.Parse(token).ConfirmationCode;
        byte[] secret = forgedClient.ExportSecret();
        SealedHandover forged;
        try
        {
            forged = DeviceHandover.Seal(token, code, secret,
                new HandoverIdentity("alice@example.com", keyId, forgedClient.DeviceId, curve, forgedClient.EncodedPublicKey));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }

        // New device: opens the handover and checks the share (ImportShare), then runs the enrol refresh.
        using OpenedHandover opened = DeviceHandover.Open(forged.Text, pending);
        using ClientKeyShare handedOver = opened.ImportShare();
        using RingPedersenSecret deviceAuxiliary = RingPedersenSecret.Generate(backend);
        using var client = RefreshClientSession.FromShare(handedOver, RefreshPurpose.Enrol, deviceAuxiliary, backend);
        using var server = RefreshServerSession.FromShare(forgedServer, DeviceIds.New("device"), RefreshPurpose.Enrol, backend);
        RefreshCommitment commitment = RefreshCommitment.Decode(server.HandleRequest(RefreshRequest.Decode(client.Start().Encode())).Encode());
        RefreshContribution contribution = RefreshContribution.Decode(client.HandleCommitment(commitment).Encode(), curve);
        RefreshServerShare serverShare = RefreshServerShare.Decode(server.HandleContribution(contribution).Encode(), curve);
        RefreshClientOutput output = client.HandleServerShare(serverShare);
        using ServerKeyShare newServer = server.HandleConfirmation(RefreshConfirmation.Decode(output.Confirmation.Encode(), curve));
        using ClientKeyShare enrolled = output.Share;

        // Every check above passed. What must hold (and does not): the new device never ends up holding a key the
        // server can sign with alone. Today the enrolled key is exactly one the server made whole.
        Assert.Equal(keyId, enrolled.KeyId);
        bool serverHoldsWholeKey = c.MultiplyBase(wholeKey).Equals(enrolled.PublicKey);
        forgedServer.Dispose();
        forgedClient.Dispose();
        Assert.False(serverHoldsWholeKey,
            "the new device accepted a forged handover and enrolled into a key whose private key the server knows");
    }

    private static (ServerKeyShare Server, ClientKeyShare Client) KeyGen(string keyId, CurveKind curve, RingPedersenSecret auxiliary, IBigNumBackend backend)
    {
        using var server = new KeyGenServerSession(keyId, backend);
        using var client = new KeyGenClientSession(curve, auxiliary, backend);
        KeyGenRequest request = KeyGenRequest.Decode(client.Start().Encode());
        KeyGenCommitment commitment = KeyGenCommitment.Decode(server.HandleRequest(request).Encode());
        KeyGenClientShare clientShare = KeyGenClientShare.Decode(client.HandleCommitment(commitment).Encode(), curve);
        KeyGenServerOutput output = server.HandleClientShare(clientShare);
        return (output.Share, client.HandleServerShare(KeyGenServerShare.Decode(output.Message.Encode(), curve)));
    }
}
