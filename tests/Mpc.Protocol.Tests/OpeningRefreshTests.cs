using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;

namespace Mpc.Protocol.Tests;

/// <summary>
/// A refresh that starts from a key file's clear header while the share is still being decrypted
/// (<see cref="RefreshClientSession.Opening"/>): it completes with the real share, and refuses to go on with a share
/// or device parameters other than the ones the headers named.
/// </summary>
[Collection("engine")]
public sealed class OpeningRefreshTests(EngineFixture engine)
{
    private const CurveKind Curve = CurveKind.P256;

    private static MpcErrorCode Refusal(Action action) => Assert.Throws<MpcProtocolException>(action).Code;

    /// <summary>A server session that names the device's parameters as verified when <paramref name="known"/>, as a server that has seen them does.</summary>
    private RefreshServerSession Server(TwoPartyKey key, bool known, string device = ClientKeyShare.PrimaryDevice)
    {
        var server = RefreshServerSession.FromShare(key.Server, device, RefreshPurpose.Refresh, engine.Backend);
        server.KnownClientParameters = known ? engine.CacheKnowingTheDevice.For("alice") : new VerifiedRingPedersenCache(capacity: 8).For("alice");
        return server;
    }

    /// <summary>A session started from what a key file's header says (by default: exactly <paramref name="header"/>'s share).</summary>
    private RefreshClientSession Opening(ClientKeyShare header, string? device = null) =>
        RefreshClientSession.Opening(header.KeyId, device ?? header.DeviceId, header.ShareId, header.Curve, header.PublicKey,
            engine.Auxiliary.Parameters, engine.Backend);

    [Fact]
    public void Known_parameters_let_rounds_1_to_3_run_before_the_share_is_opened_and_the_refreshed_pair_signs()
    {
        TwoPartyKey key = TwoParty.KeyGen(Curve, engine.Auxiliary, engine.Backend);
        RefreshServerSession server = Server(key, known: true);
        RefreshClientSession client = Opening(key.Client);

        RefreshCommitment commitment = RefreshCommitment.Decode(server.HandleRequest(RefreshRequest.Decode(client.Start().Encode())).Encode());
        Assert.False(client.NeedsSecretsFor(commitment));
        RefreshContribution contribution = RefreshContribution.Decode(client.HandleCommitment(commitment).Encode(), Curve);
        Assert.Null(contribution.RingPedersenProof);
        RefreshServerShare serverShare = RefreshServerShare.Decode(server.HandleContribution(contribution).Encode(), Curve);

        client.Supply(key.Client, engine.Auxiliary);
        RefreshClientOutput output = client.HandleServerShare(serverShare);
        ServerKeyShare newServer = server.HandleConfirmation(RefreshConfirmation.Decode(output.Confirmation.Encode(), Curve));

        Assert.Equal(key.Client.PublicKey, output.Share.PublicKey);
        Assert.NotEqual(key.Client.X2, output.Share.X2);
        Assert.Equal(newServer.ShareId, output.Share.ShareId);
        byte[] digest = TwoParty.DigestFor(Curve, [1, 2, 3]);
        EcdsaSignature signature = TwoParty.Sign(new TwoPartyKey(newServer, output.Share), digest);
        Assert.True(IndependentVerifiers.BouncyCastle(Curve, newServer.PublicKey, digest, signature));
    }

    [Fact]
    public void Parameters_the_server_does_not_name_need_the_opened_secret_before_round_3_and_then_carry_their_proof()
    {
        TwoPartyKey key = engine.Key(Curve);
        RefreshServerSession server = Server(key, known: false);
        RefreshClientSession client = Opening(key.Client);
        RefreshCommitment commitment = server.HandleRequest(client.Start());

        Assert.True(client.NeedsSecretsFor(commitment));
        Assert.Throws<InvalidOperationException>(() => client.HandleCommitment(commitment));

        // The refused step failed the session (the gate leaves its state first): a real client supplies before it.
        RefreshClientSession second = Opening(key.Client);
        RefreshCommitment again = Server(key, known: false).HandleRequest(second.Start());
        second.Supply(key.Client, engine.Auxiliary);
        Assert.False(second.NeedsSecretsFor(again));
        Assert.NotNull(second.HandleCommitment(again).RingPedersenProof);
    }

    [Fact]
    public void The_servers_share_is_not_handled_before_the_opened_share_is_supplied()
    {
        TwoPartyKey key = engine.Key(Curve);
        RefreshServerSession server = Server(key, known: true);
        RefreshClientSession client = Opening(key.Client);
        RefreshServerShare serverShare = server.HandleContribution(client.HandleCommitment(server.HandleRequest(client.Start())));

        Assert.Throws<InvalidOperationException>(() => client.HandleServerShare(serverShare));
    }

    public static TheoryData<string> Mismatches => ["another key", "another share of the key", "another device", "other parameters"];

    [Theory]
    [MemberData(nameof(Mismatches))]
    public void An_opened_share_or_profile_other_than_the_headers_named_fails_the_session_before_round_5(string mismatch)
    {
        TwoPartyKey key = engine.Key(Curve);
        using RingPedersenSecret otherParameters = RingPedersenSecret.DeriveFromPaillier(key.Server.Paillier);
        ClientKeyShare opened = key.Client;
        string device = ClientKeyShare.PrimaryDevice;
        RingPedersenSecret profile = engine.Auxiliary;
        switch (mismatch)
        {
            case "another key":
                opened = TwoParty.KeyGen(Curve, engine.Auxiliary, engine.Backend).Client;
                break;
            case "another share of the key":
                // The same key after a refresh elsewhere: same key id, device and public key, another share id.
                RefreshServerSession other = Server(key, known: true);
                RefreshClientSession refresher = RefreshClientSession.FromShare(key.Client, RefreshPurpose.Refresh, engine.Auxiliary, engine.Backend);
                RefreshClientOutput output = refresher.HandleServerShare(other.HandleContribution(refresher.HandleCommitment(other.HandleRequest(refresher.Start()))));
                opened = output.Share;
                Assert.Equal(key.Client.KeyId, opened.KeyId);
                Assert.NotEqual(key.Client.ShareId, opened.ShareId);
                break;
            case "another device":
                // The header (and the server) name another of the key's devices than the share that opened.
                device = "laptop-2";
                break;
            case "other parameters":
                profile = otherParameters;
                break;
        }
        RefreshServerSession server = Server(key, known: true, device);
        RefreshClientSession client = Opening(key.Client, device);
        RefreshServerShare serverShare = server.HandleContribution(client.HandleCommitment(server.HandleRequest(client.Start())));

        Assert.Equal(MpcErrorCode.SessionMismatch, Refusal(() => client.Supply(opened, profile)));
        // Failed for good: the server's share is never handled, so no confirmation (round 5) can be made.
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Refusal(() => client.HandleServerShare(serverShare)));
    }
}
