using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;
using Org.BouncyCastle.Math;

namespace Mpc.Protocol.Tests;

/// <summary>
/// A server that remembers a device's verified ring-Pedersen parameters skips only their Πprm verification: other or
/// tampered parameters are still checked and refused.
/// </summary>
[Collection("engine")]
public sealed class VerifiedRingPedersenCacheTests(EngineFixture engine)
{
    private const CurveKind Curve = CurveKind.P256;
    private const string User = "alice";

    private (KeyGenServerSession Server, KeyGenClientSession Client, KeyGenClientShare Share) AwaitingShare(VerifiedRingPedersenCache cache, string user = User)
    {
        var server = new KeyGenServerSession(KeyIds.New(), engine.Backend) { KnownClientParameters = cache.For(user) };
        var client = new KeyGenClientSession(Curve, engine.Auxiliary, engine.Backend);
        KeyGenClientShare share = client.HandleCommitment(server.HandleRequest(client.Start()));
        return (server, client, share);
    }

    private VerifiedRingPedersenCache CacheKnowingTheDevice()
    {
        var cache = new VerifiedRingPedersenCache(capacity: 8);
        (KeyGenServerSession server, KeyGenClientSession client, KeyGenClientShare share) = AwaitingShare(cache);
        client.HandleServerShare(server.HandleClientShare(share).Message).Dispose();
        Assert.Equal(1, cache.Misses);
        Assert.Equal(0, cache.Hits);
        Assert.Equal(1, cache.Count);
        return cache;
    }

    private static MpcErrorCode Refusal(Action action) => Assert.Throws<MpcProtocolException>(action).Code;

    [Fact]
    public void Known_parameters_skip_their_verification_and_the_key_is_made()
    {
        VerifiedRingPedersenCache cache = CacheKnowingTheDevice();
        (KeyGenServerSession server, KeyGenClientSession client, KeyGenClientShare share) = AwaitingShare(cache);

        using ClientKeyShare key = client.HandleServerShare(server.HandleClientShare(share).Message);

        Assert.Equal(1, cache.Hits);
        Assert.Equal(1, cache.Misses);
    }

    [Fact]
    public void A_proof_for_the_known_parameters_does_not_pass_for_different_parameters()
    {
        VerifiedRingPedersenCache cache = CacheKnowingTheDevice();
        using PaillierPrivateKey otherKey = PaillierPrivateKey.Generate(engine.Backend);
        using RingPedersenSecret other = RingPedersenSecret.DeriveFromPaillier(otherKey);
        (KeyGenServerSession server, _, KeyGenClientShare share) = AwaitingShare(cache);

        // This session's valid proof for the known parameters, sent with parameters the server has never verified.
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleClientShare(share with { RingPedersen = other.Parameters })));
        Assert.Equal(0, cache.Hits);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Tampered_parameters_are_refused_though_the_originals_are_known()
    {
        VerifiedRingPedersenCache cache = CacheKnowingTheDevice();
        RingPedersenParameters known = engine.Auxiliary.Parameters;

        (KeyGenServerSession server, _, KeyGenClientShare share) = AwaitingShare(cache);
        var changedS = new RingPedersenParameters(known.N, known.S.Multiply(known.T).Mod(known.N), known.T);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleClientShare(share with { RingPedersen = changedS })));

        (server, _, share) = AwaitingShare(cache);
        var outOfRange = new RingPedersenParameters(known.N, known.S.Add(known.N), known.T);
        Assert.Equal(MpcErrorCode.InvalidRingPedersenParameters, Refusal(() => server.HandleClientShare(share with { RingPedersen = outOfRange })));

        (server, _, share) = AwaitingShare(cache);
        var swapped = new RingPedersenParameters(known.N, known.T, known.S);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleClientShare(share with { RingPedersen = swapped })));
        Assert.Equal(0, cache.Hits);
    }

    [Fact]
    public void Another_user_sending_the_same_parameters_is_verified_again()
    {
        VerifiedRingPedersenCache cache = CacheKnowingTheDevice();
        (KeyGenServerSession server, _, KeyGenClientShare share) = AwaitingShare(cache, "bob");
        server.HandleClientShare(share).Share.Dispose();
        Assert.Equal(0, cache.Hits);
        Assert.Equal(2, cache.Misses);
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void A_refresh_of_a_known_device_skips_the_verification_and_a_bad_proof_is_never_remembered()
    {
        var cache = new VerifiedRingPedersenCache(capacity: 8);
        TwoPartyKey key = engine.Key(Curve);

        // A refused proof leaves nothing remembered.
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key, cache);
        RefreshContribution contribution = client.HandleCommitment(server.HandleRequest(client.Start()));
        (RefreshServerSession other, RefreshClientSession otherClient) = Sessions(key, cache);
        RefreshContribution otherContribution = otherClient.HandleCommitment(other.HandleRequest(otherClient.Start()));
        Assert.Equal(MpcErrorCode.ProofFailed,
            Refusal(() => server.HandleContribution(contribution with { RingPedersenProof = otherContribution.RingPedersenProof })));
        Assert.Equal(0, cache.Count);

        // An honest refresh is verified and remembered; the next one hits.
        other.HandleContribution(otherContribution);
        Assert.Equal(1, cache.Count);
        (server, client) = Sessions(key, cache);
        contribution = client.HandleCommitment(server.HandleRequest(client.Start()));
        RefreshServerShare reply = server.HandleContribution(contribution);
        RefreshClientOutput output = client.HandleServerShare(reply);
        using ServerKeyShare refreshed = server.HandleConfirmation(output.Confirmation);
        output.Share.Dispose();
        Assert.Equal(1, cache.Hits);
    }

    [Fact]
    public void The_least_recently_used_entry_goes_when_the_cache_is_full()
    {
        var cache = new VerifiedRingPedersenCache(capacity: 1);
        foreach (string user in new[] { "alice", "bob", "alice" })
        {
            (KeyGenServerSession server, _, KeyGenClientShare share) = AwaitingShare(cache, user);
            server.HandleClientShare(share).Share.Dispose();
        }
        Assert.Equal(0, cache.Hits);
        Assert.Equal(3, cache.Misses);
        Assert.Equal(1, cache.Count);
    }

    private (RefreshServerSession Server, RefreshClientSession Client) Sessions(TwoPartyKey key, VerifiedRingPedersenCache cache)
    {
        RefreshServerSession server = RefreshServerSession.FromShare(key.Server, ClientKeyShare.PrimaryDevice, RefreshPurpose.Refresh, engine.Backend);
        server.KnownClientParameters = cache.For(User);
        return (server, RefreshClientSession.FromShare(key.Client, RefreshPurpose.Refresh, engine.Auxiliary, engine.Backend));
    }
}
