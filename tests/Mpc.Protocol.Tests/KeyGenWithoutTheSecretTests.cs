using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;

namespace Mpc.Protocol.Tests;

/// <summary>
/// A key generation whose device profile is still opening: round 3 goes ahead on the public parameters the server
/// names as verified (<see cref="KeyGenClientSession.HandleCommitment(KeyGenCommitment, RingPedersenParameters)"/>),
/// and round 4 waits for the secret (<see cref="KeyGenClientSession.Supply"/>), which must be the one those
/// parameters belong to.
/// </summary>
[Collection("engine")]
public sealed class KeyGenWithoutTheSecretTests(EngineFixture engine)
{
    private const CurveKind Curve = CurveKind.P256;

    /// <summary>A server session that names the device's parameters as verified when <paramref name="known"/>.</summary>
    private KeyGenServerSession Server(bool known) =>
        new(KeyIds.New(), engine.Backend)
        {
            KnownClientParameters = known ? engine.CacheKnowingTheDevice.For("alice") : new VerifiedRingPedersenCache(capacity: 8).For("alice"),
        };

    /// <summary>Rounds 1 to 4 on the wire encoding, round 3 without the secret; returns the server's round 4 and its share.</summary>
    private (KeyGenClientSession Client, KeyGenServerOutput Server) ToRound4WithoutTheSecret()
    {
        KeyGenServerSession server = Server(known: true);
        var client = new KeyGenClientSession(Curve, engine.Backend);
        KeyGenCommitment commitment = KeyGenCommitment.Decode(server.HandleRequest(KeyGenRequest.Decode(client.Start().Encode())).Encode());
        Assert.True(commitment.Names(engine.Auxiliary.Parameters));
        KeyGenClientShare share = KeyGenClientShare.Decode(client.HandleCommitment(commitment, engine.Auxiliary.Parameters).Encode(), Curve);
        Assert.Null(share.RingPedersenProof);
        Assert.Equal(engine.Auxiliary.Parameters, share.RingPedersen);
        return (client, server.HandleClientShare(share));
    }

    [Fact]
    public void Round_3_goes_ahead_on_named_public_parameters_and_the_key_made_once_the_secret_is_supplied_signs()
    {
        (KeyGenClientSession client, KeyGenServerOutput server) = ToRound4WithoutTheSecret();

        client.Supply(engine.Auxiliary);
        using ClientKeyShare share = client.HandleServerShare(KeyGenServerShare.Decode(server.Message.Encode(), Curve));

        Assert.Equal(server.Share.PublicKey, share.PublicKey);
        byte[] digest = TwoParty.DigestFor(Curve, [4, 5, 6]);
        EcdsaSignature signature = TwoParty.Sign(new TwoPartyKey(server.Share, share), digest);
        Assert.True(IndependentVerifiers.BouncyCastle(Curve, share.PublicKey, digest, signature));
    }

    [Fact]
    public void Round_4_before_the_secret_is_supplied_is_refused_and_the_session_is_over()
    {
        (KeyGenClientSession client, KeyGenServerOutput server) = ToRound4WithoutTheSecret();

        Assert.Throws<InvalidOperationException>(() => client.HandleServerShare(server.Message));
        client.Supply(engine.Auxiliary);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Assert.Throws<MpcProtocolException>(() => client.HandleServerShare(server.Message)).Code);
    }

    [Fact]
    public void A_secret_of_other_parameters_is_refused_as_a_session_mismatch_and_round_4_is_not_handled()
    {
        (KeyGenClientSession client, KeyGenServerOutput server) = ToRound4WithoutTheSecret();
        TwoPartyKey other = engine.Key(CurveKind.Secp256k1);
        using RingPedersenSecret otherSecret = RingPedersenSecret.DeriveFromPaillier(other.Server.Paillier);

        Assert.Equal(MpcErrorCode.SessionMismatch, Assert.Throws<MpcProtocolException>(() => client.Supply(otherSecret)).Code);
        Assert.Equal(MpcErrorCode.UnexpectedMessage, Assert.Throws<MpcProtocolException>(() => client.HandleServerShare(server.Message)).Code);
    }

    [Fact]
    public void The_secret_is_taken_once_and_only_by_a_session_that_went_on_without_it()
    {
        (KeyGenClientSession client, _) = ToRound4WithoutTheSecret();
        client.Supply(engine.Auxiliary);
        Assert.Throws<InvalidOperationException>(() => client.Supply(engine.Auxiliary));

        var withSecret = new KeyGenClientSession(Curve, engine.Auxiliary, engine.Backend);
        KeyGenServerSession server = Server(known: true);
        withSecret.HandleCommitment(server.HandleRequest(withSecret.Start()));
        Assert.Throws<InvalidOperationException>(() => withSecret.Supply(engine.Auxiliary));
    }

    [Fact]
    public void Parameters_the_server_does_not_name_need_the_secret_and_the_session_can_still_give_it()
    {
        KeyGenServerSession server = Server(known: false);
        var client = new KeyGenClientSession(Curve, engine.Backend);
        KeyGenCommitment commitment = server.HandleRequest(client.Start());
        Assert.False(commitment.Names(engine.Auxiliary.Parameters));

        Assert.Throws<InvalidOperationException>(() => client.HandleCommitment(commitment, engine.Auxiliary.Parameters));

        // Nothing moved: round 3 with the secret proves the parameters, and the key is made.
        KeyGenClientShare share = client.HandleCommitment(commitment, engine.Auxiliary);
        Assert.NotNull(share.RingPedersenProof);
        using ClientKeyShare key = client.HandleServerShare(server.HandleClientShare(share).Message);
        Assert.Equal(commitment.KeyId, key.KeyId);
    }
}
