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
/// From a review's proof of concept. The request token is public and its confirmation code is a public function of the
/// token, so whoever holds the token, the signing server included, can seal a share to it; before the handover code,
/// the new device knew only the key id it asked for, never the key's public key, and a server that got its handover
/// to the new device could enrol it into a key of that id whose both halves it made itself. The existing device now
/// shows the handover's own code, which the user types on the new device: the forged handover does not carry it.
/// </summary>
public sealed class ForgedHandoverTests
{
    [Fact]
    public void A_new_device_refuses_a_forged_handover_of_a_key_the_server_made_whole_and_enrols_the_genuine_key()
    {
        IBigNumBackend backend = BigNumBackends.Create(BigNumBackendKind.Auto);
        string keyId = KeyIds.New(); // the genuine key the user wants on the new device
        CurveKind curve = CurveKind.Secp256k1;
        EcCurve c = EcCurve.Get(curve);
        using RingPedersenSecret auxiliary = RingPedersenSecret.Generate(backend);
        (ServerKeyShare genuineServer, ClientKeyShare genuineClient) = KeyGen(keyId, curve, auxiliary, backend);
        using ServerKeyShare ownedGenuineServer = genuineServer;
        using ClientKeyShare ownedGenuineClient = genuineClient;

        // New device: the request (its token travels by "any channel"; the code is shown on screen only).
        using DeviceEnrolmentRequest pending = DeviceEnrolmentRequest.Create(keyId);
        string token = pending.Request.ToToken();

        // Malicious server: a fresh key pair under the requested key id, both halves made by itself, sealed to the
        // request with the confirmation code it computes from the token alone.
        (ServerKeyShare forgedServer, ClientKeyShare forgedClient) = KeyGen(keyId, curve, auxiliary, backend);
        using ServerKeyShare ownedForgedServer = forgedServer;
        using ClientKeyShare ownedForgedClient = forgedClient;
        BigInteger wholeKey = forgedServer.X1.Multiply(forgedClient.X2).Mod(c.Order);
        SealedHandover forged = SealFor(token, EnrolmentRequest.Parse(token).ConfirmationCode, forgedClient);

        // The user's existing device seals its genuine share and shows the handover code on its own screen.
        SealedHandover genuine = SealFor(token, pending.Request.ConfirmationCode, genuineClient);
        string readOffTheExistingDevice = genuine.HandoverCode;

        // The forged handover reaches the new device first; the user types the code the existing device shows. Refused,
        // and without a code (or with an empty one) there is no way to open it either.
        MpcSignerException refused = Assert.Throws<MpcSignerException>(() => DeviceHandover.Open(forged.Text, readOffTheExistingDevice, pending));
        Assert.Equal(MpcErrorReason.CodeMismatch, refused.Reason);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.Equal(MpcErrorReason.CodeMismatch, Assert.Throws<MpcSignerException>(() => DeviceHandover.Open(forged.Text, " ", pending)).Reason);
        Assert.All(typeof(DeviceHandover).GetMethods().Where(m => m.ReturnType == typeof(OpenedHandover)),
            open => Assert.Contains(open.GetParameters(), p => p.Name == "handoverCode" && p.ParameterType == typeof(string)));
        Assert.Empty(typeof(OpenedHandover).GetConstructors());

        // The request was kept: the genuine handover opens with its code, and the enrol refresh with the genuine
        // server share gives the new device the user's key, not one the server holds whole.
        using OpenedHandover opened = DeviceHandover.Open(genuine.Text, readOffTheExistingDevice, pending);
        using ClientKeyShare handedOver = opened.ImportShare();
        using RingPedersenSecret deviceAuxiliary = RingPedersenSecret.Generate(backend);
        using var client = RefreshClientSession.FromShare(handedOver, RefreshPurpose.Enrol, deviceAuxiliary, backend);
        using var server = RefreshServerSession.FromShare(genuineServer, DeviceIds.New("device"), RefreshPurpose.Enrol, backend);
        RefreshCommitment commitment = RefreshCommitment.Decode(server.HandleRequest(RefreshRequest.Decode(client.Start().Encode())).Encode());
        RefreshContribution contribution = RefreshContribution.Decode(client.HandleCommitment(commitment).Encode(), curve);
        RefreshServerShare serverShare = RefreshServerShare.Decode(server.HandleContribution(contribution).Encode(), curve);
        RefreshClientOutput output = client.HandleServerShare(serverShare);
        using ServerKeyShare newServer = server.HandleConfirmation(RefreshConfirmation.Decode(output.Confirmation.Encode(), curve));
        using ClientKeyShare enrolled = output.Share;

        Assert.Equal(keyId, enrolled.KeyId);
        Assert.Equal(genuineClient.PublicKey, enrolled.PublicKey);
        Assert.False(c.MultiplyBase(wholeKey).Equals(enrolled.PublicKey),
            "the new device enrolled into a key whose private key the server knows");
    }

    /// <summary>What an existing device holding <paramref name="share"/> seals to the request in <paramref name="token"/>.</summary>
    private static SealedHandover SealFor(string token, string confirmationCode, ClientKeyShare share)
    {
        byte[] secret = share.ExportSecret();
        try
        {
            return DeviceHandover.Seal(token, confirmationCode, secret,
                new HandoverIdentity("alice@example.com", share.KeyId, share.DeviceId, share.Curve, share.EncodedPublicKey));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
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
