using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;
using Org.BouncyCastle.Math;

namespace Mpc.Protocol.Tests;

/// <summary>
/// A server that remembers a device's verified ring-Pedersen parameters names them in round 2, and the device then
/// leaves their Πprm out of round 3; only the named sets pass without a proof, and other or tampered parameters are
/// still checked and refused.
/// </summary>
[Collection("engine")]
public sealed class VerifiedRingPedersenCacheTests(EngineFixture engine)
{
    private const CurveKind Curve = CurveKind.P256;
    private const string User = "alice";

    // withProof: the client is shown round 2 without the server's list of known sets, so it proves its parameters
    // whatever the server remembers (as a client would that predates the list).
    private (KeyGenServerSession Server, KeyGenClientSession Client, KeyGenClientShare Share) AwaitingShare(
        VerifiedRingPedersenCache cache, string user = User, bool withProof = false, RingPedersenSecret? auxiliary = null)
    {
        var server = new KeyGenServerSession(KeyIds.New(), engine.Backend) { KnownClientParameters = cache.For(user) };
        var client = new KeyGenClientSession(Curve, auxiliary ?? engine.Auxiliary, engine.Backend);
        KeyGenCommitment commitment = server.HandleRequest(client.Start());
        KeyGenClientShare share = client.HandleCommitment(withProof ? commitment with { KnownClientParameters = null } : commitment);
        return (server, client, share);
    }

    private VerifiedRingPedersenCache CacheKnowingTheDevice()
    {
        var cache = new VerifiedRingPedersenCache(capacity: 8);
        (KeyGenServerSession server, KeyGenClientSession client, KeyGenClientShare share) = AwaitingShare(cache);
        Assert.NotNull(share.RingPedersenProof);
        client.HandleServerShare(server.HandleClientShare(share).Message).Dispose();
        Assert.Equal(1, cache.Misses);
        Assert.Equal(0, cache.Hits);
        Assert.Equal(1, cache.Count);
        return cache;
    }

    private static MpcErrorCode Refusal(Action action) => Assert.Throws<MpcProtocolException>(action).Code;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Known_parameters_are_named_in_round_2_and_not_verified_again_with_or_without_their_proof(bool proofSentAnyway)
    {
        VerifiedRingPedersenCache cache = CacheKnowingTheDevice();
        var server = new KeyGenServerSession(KeyIds.New(), engine.Backend) { KnownClientParameters = cache.For(User) };
        var client = new KeyGenClientSession(Curve, engine.Auxiliary, engine.Backend);
        KeyGenCommitment commitment = KeyGenCommitment.Decode(server.HandleRequest(client.Start()).Encode());
        Assert.True(commitment.Names(engine.Auxiliary.Parameters));
        Assert.Single(commitment.KnownClientParameters!);
        // A client shown round 2 without the list proves anyway, as one that predates the list would.
        KeyGenClientShare share = KeyGenClientShare.Decode(
            client.HandleCommitment(proofSentAnyway ? commitment with { KnownClientParameters = null } : commitment).Encode(), Curve);
        Assert.Equal(proofSentAnyway, share.RingPedersenProof is not null);

        using ClientKeyShare key = client.HandleServerShare(server.HandleClientShare(share).Message);

        Assert.Equal(1, cache.Hits);
        Assert.Equal(1, cache.Misses);
    }

    [Fact]
    public void Parameters_without_a_proof_are_refused_when_round_2_did_not_name_them()
    {
        // A server that remembers nothing names nothing.
        var empty = new VerifiedRingPedersenCache(capacity: 8);
        (KeyGenServerSession server, _, KeyGenClientShare share) = AwaitingShare(empty, withProof: true);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleClientShare(share with { RingPedersenProof = null })));
        Assert.Equal(0, empty.Count);

        // Nor does a server without the cache at all.
        var bare = new KeyGenServerSession(KeyIds.New(), engine.Backend);
        var client = new KeyGenClientSession(Curve, engine.Auxiliary, engine.Backend);
        KeyGenCommitment commitment = bare.HandleRequest(client.Start());
        Assert.Empty(commitment.KnownClientParameters!);
        KeyGenClientShare proved = client.HandleCommitment(commitment);
        Assert.NotNull(proved.RingPedersenProof);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => bare.HandleClientShare(proved with { RingPedersenProof = null })));

        // Known parameters, but another user's: this user's round 2 names none of them.
        VerifiedRingPedersenCache cache = CacheKnowingTheDevice();
        (server, _, share) = AwaitingShare(cache, user: "bob", withProof: true);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleClientShare(share with { RingPedersenProof = null })));
        Assert.Equal(0, cache.Hits);
    }

    [Fact]
    public void Only_the_sets_named_in_round_2_pass_without_a_proof()
    {
        var cache = new VerifiedRingPedersenCache(capacity: 8);
        // Round 2 goes out before the device's parameters are remembered (its first key is still being made) ...
        (KeyGenServerSession early, _, KeyGenClientShare earlyShare) = AwaitingShare(cache);
        Assert.NotNull(earlyShare.RingPedersenProof);
        (KeyGenServerSession first, KeyGenClientSession firstClient, KeyGenClientShare firstShare) = AwaitingShare(cache);
        firstClient.HandleServerShare(first.HandleClientShare(firstShare).Message).Dispose();
        // ... so that session still needs the proof, though the set is remembered by the time its round 3 arrives.
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => early.HandleClientShare(earlyShare with { RingPedersenProof = null })));
    }

    [Fact]
    public void A_set_named_in_round_2_and_evicted_before_round_3_still_passes()
    {
        var cache = new VerifiedRingPedersenCache(capacity: 1);
        (KeyGenServerSession first, KeyGenClientSession firstClient, KeyGenClientShare firstShare) = AwaitingShare(cache);
        firstClient.HandleServerShare(first.HandleClientShare(firstShare).Message).Dispose();
        (KeyGenServerSession server, KeyGenClientSession client, KeyGenClientShare share) = AwaitingShare(cache);
        Assert.Null(share.RingPedersenProof);

        // Another user's device takes the only place.
        (KeyGenServerSession other, _, KeyGenClientShare otherShare) = AwaitingShare(cache, user: "bob");
        other.HandleClientShare(otherShare).Share.Dispose();
        Assert.Empty(cache.For(User).Known());

        using ClientKeyShare key = client.HandleServerShare(server.HandleClientShare(share).Message);
        Assert.Single(cache.For(User).Known());
    }

    [Fact]
    public void Round_2_names_this_users_most_recent_sets_up_to_the_limit_in_byte_order()
    {
        var cache = new VerifiedRingPedersenCache(capacity: 64);
        var devices = new List<RingPedersenParameters>();
        for (int i = 0; i < ProtocolLimits.MaxKnownParameterSets + 1; i++)
        {
            using PaillierPrivateKey paillier = PaillierPrivateKey.Generate(engine.Backend);
            using RingPedersenSecret device = RingPedersenSecret.DeriveFromPaillier(paillier);
            (KeyGenServerSession server, _, KeyGenClientShare share) = AwaitingShare(cache, auxiliary: device);
            server.HandleClientShare(share).Share.Dispose();
            devices.Add(device.Parameters);
        }
        (KeyGenServerSession bob, _, KeyGenClientShare bobShare) = AwaitingShare(cache, user: "bob");
        bob.HandleClientShare(bobShare).Share.Dispose();

        devices.Reverse();
        Assert.Equal(devices.Take(ProtocolLimits.MaxKnownParameterSets).Select(d => d.Fingerprint()), cache.For(User).Known());
        Assert.Equal([engine.Auxiliary.Parameters.Fingerprint()], cache.For("bob").Known());

        KeyGenCommitment commitment = new KeyGenServerSession(KeyIds.New(), engine.Backend) { KnownClientParameters = cache.For(User) }
            .HandleRequest(new KeyGenClientSession(Curve, engine.Auxiliary, engine.Backend).Start());
        Assert.Equal(ProtocolLimits.MaxKnownParameterSets, commitment.KnownClientParameters!.Count);
        Assert.All(devices.Take(ProtocolLimits.MaxKnownParameterSets), d => Assert.True(commitment.Names(d)));
        Assert.False(commitment.Names(devices[^1]));
        Assert.False(commitment.Names(engine.Auxiliary.Parameters));
        // In byte order, so the list does not tell which set was used last.
        Assert.Equal(commitment.KnownClientParameters.OrderBy(n => Convert.ToHexString(n)), commitment.KnownClientParameters);
    }

    [Fact]
    public void Round_2_names_are_salted_per_session_so_lists_cannot_be_matched_across_sessions_or_users()
    {
        VerifiedRingPedersenCache cache = CacheKnowingTheDevice();
        (KeyGenServerSession bob, KeyGenClientSession bobClient, KeyGenClientShare bobShare) = AwaitingShare(cache, user: "bob");
        bob.HandleClientShare(bobShare).Share.Dispose();

        KeyGenCommitment Round2(string user) => new KeyGenServerSession(KeyIds.New(), engine.Backend) { KnownClientParameters = cache.For(user) }
            .HandleRequest(new KeyGenClientSession(Curve, engine.Auxiliary, engine.Backend).Start());
        KeyGenCommitment[] lists = [Round2(User), Round2(User), Round2("bob")];

        // The same device set for both users, named in all three, never with the same bytes.
        Assert.All(lists, c => Assert.True(c.Names(engine.Auxiliary.Parameters)));
        Assert.Equal(3, lists.Select(c => Convert.ToHexString(c.KnownClientParameters!.Single())).Distinct().Count());
        Assert.DoesNotContain(lists, c => c.KnownClientParameters!.Single().AsSpan().SequenceEqual(engine.Auxiliary.Parameters.Fingerprint()));
    }

    [Fact]
    public void What_round_2_pinned_decides_round_3_even_if_the_session_is_given_another_users_scope_in_between()
    {
        VerifiedRingPedersenCache cache = CacheKnowingTheDevice();
        TwoPartyKey key = engine.Key(Curve);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(key, cache);
        RefreshContribution contribution = client.HandleCommitment(server.HandleRequest(client.Start()));
        Assert.Null(contribution.RingPedersenProof);

        server.KnownClientParameters = cache.For("mallory");
        server.HandleContribution(contribution);

        // Recorded for the user it was named for, and nothing for the other scope.
        Assert.Single(cache.For(User).Known());
        Assert.Empty(cache.For("mallory").Known());
    }

    [Fact]
    public void A_proof_for_the_known_parameters_does_not_pass_for_different_parameters()
    {
        VerifiedRingPedersenCache cache = CacheKnowingTheDevice();
        using PaillierPrivateKey otherKey = PaillierPrivateKey.Generate(engine.Backend);
        using RingPedersenSecret other = RingPedersenSecret.DeriveFromPaillier(otherKey);
        (KeyGenServerSession server, _, KeyGenClientShare share) = AwaitingShare(cache, withProof: true);

        // This session's valid proof for the known parameters, sent with parameters the server has never verified.
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleClientShare(share with { RingPedersen = other.Parameters })));
        // And without a proof: the other set was not named.
        (server, _, share) = AwaitingShare(cache);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleClientShare(share with { RingPedersen = other.Parameters })));
        Assert.Equal(0, cache.Hits);
        Assert.Equal(1, cache.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Tampered_parameters_are_refused_though_the_originals_are_known(bool withProof)
    {
        VerifiedRingPedersenCache cache = CacheKnowingTheDevice();
        RingPedersenParameters known = engine.Auxiliary.Parameters;

        (KeyGenServerSession server, _, KeyGenClientShare share) = AwaitingShare(cache, withProof: withProof);
        var changedS = new RingPedersenParameters(known.N, known.S.Multiply(known.T).Mod(known.N), known.T);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleClientShare(share with { RingPedersen = changedS })));

        (server, _, share) = AwaitingShare(cache, withProof: withProof);
        var outOfRange = new RingPedersenParameters(known.N, known.S.Add(known.N), known.T);
        Assert.Equal(MpcErrorCode.InvalidRingPedersenParameters, Refusal(() => server.HandleClientShare(share with { RingPedersen = outOfRange })));

        (server, _, share) = AwaitingShare(cache, withProof: withProof);
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

        // An honest refresh is verified and remembered; the next one is sent without the proof and hits.
        other.HandleContribution(otherContribution);
        Assert.Equal(1, cache.Count);
        (server, client) = Sessions(key, cache);
        RefreshCommitment commitment = RefreshCommitment.Decode(server.HandleRequest(client.Start()).Encode());
        Assert.True(commitment.Names(engine.Auxiliary.Parameters));
        Assert.Single(commitment.KnownClientParameters!);
        contribution = RefreshContribution.Decode(client.HandleCommitment(commitment).Encode(), Curve);
        Assert.Null(contribution.RingPedersenProof);
        RefreshServerShare reply = server.HandleContribution(contribution);
        RefreshClientOutput output = client.HandleServerShare(reply);
        using ServerKeyShare refreshed = server.HandleConfirmation(output.Confirmation);
        output.Share.Dispose();
        Assert.Equal(1, cache.Hits);
    }

    [Fact]
    public void A_refresh_without_a_proof_for_parameters_round_2_did_not_name_is_refused()
    {
        var cache = new VerifiedRingPedersenCache(capacity: 8);
        (RefreshServerSession server, RefreshClientSession client) = Sessions(engine.Key(Curve), cache);
        RefreshContribution contribution = client.HandleCommitment(server.HandleRequest(client.Start()));
        Assert.NotNull(contribution.RingPedersenProof);
        Assert.Equal(MpcErrorCode.ProofFailed, Refusal(() => server.HandleContribution(contribution with { RingPedersenProof = null })));
        Assert.Equal(0, cache.Count);
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
        // The evicted entries are gone from what round 2 names too.
        Assert.Equal([engine.Auxiliary.Parameters.Fingerprint()], cache.For("alice").Known());
        Assert.Empty(cache.For("bob").Known());
    }

    [Fact]
    public void A_recalled_entry_outlives_older_ones_and_each_user_is_named_only_their_own()
    {
        var cache = new VerifiedRingPedersenCache(capacity: 2);
        foreach (string user in new[] { "alice", "bob" })
        {
            (KeyGenServerSession server, _, KeyGenClientShare share) = AwaitingShare(cache, user);
            server.HandleClientShare(share).Share.Dispose();
        }
        // Alice's set is used again (without its proof), so Bob's is now the least recently used ...
        (KeyGenServerSession again, _, KeyGenClientShare againShare) = AwaitingShare(cache, "alice");
        Assert.Null(againShare.RingPedersenProof);
        again.HandleClientShare(againShare).Share.Dispose();
        // ... and goes when Carol's arrives.
        (KeyGenServerSession carol, _, KeyGenClientShare carolShare) = AwaitingShare(cache, "carol");
        carol.HandleClientShare(carolShare).Share.Dispose();

        byte[] fingerprint = engine.Auxiliary.Parameters.Fingerprint();
        Assert.Equal([fingerprint], cache.For("alice").Known());
        Assert.Empty(cache.For("bob").Known());
        Assert.Equal([fingerprint], cache.For("carol").Known());
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Round_2_with_too_many_or_misshapen_fingerprints_is_malformed()
    {
        byte[] Commitment(int count, int length)
        {
            var writer = new WireWriter().WriteString(KeyIds.New()).WriteBytes(new byte[ProtocolLimits.NonceLength]).WriteBytes(new byte[32]);
            writer.WriteList(Enumerable.Range(0, count).Select(_ => new byte[length]).ToArray(), (w, f) => w.WriteBytes(f));
            return writer.ToArray();
        }

        Assert.Equal(ProtocolLimits.MaxKnownParameterSets, KeyGenCommitment.Decode(Commitment(ProtocolLimits.MaxKnownParameterSets, 32)).KnownClientParameters!.Count);
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => KeyGenCommitment.Decode(Commitment(ProtocolLimits.MaxKnownParameterSets + 1, 32))));
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => KeyGenCommitment.Decode(Commitment(1, 31))));
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => KeyGenCommitment.Decode(Commitment(1, 33))));
        // A count far beyond the message is refused before anything is allocated for it.
        byte[] huge = Commitment(0, 32);
        huge.AsSpan(huge.Length - 4).Fill(0xFF);
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => KeyGenCommitment.Decode(huge)));
        Assert.Throws<ArgumentException>(() => new KeyGenCommitment(KeyIds.New(), new byte[32], new byte[32],
            Enumerable.Range(0, ProtocolLimits.MaxKnownParameterSets + 1).Select(_ => new byte[32]).ToArray()).Encode());
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(0xFFFFFFFFu)]
    public void Round_3_whose_proof_flag_is_neither_0_nor_1_is_malformed(uint flag)
    {
        (_, _, KeyGenClientShare share) = AwaitingShare(new VerifiedRingPedersenCache(capacity: 8));
        byte[] encoded = (share with { RingPedersenProof = null }).Encode();
        Assert.Null(KeyGenClientShare.Decode(encoded, Curve).RingPedersenProof);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(encoded.AsSpan(encoded.Length - 4), flag);
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => KeyGenClientShare.Decode(encoded, Curve)));
        // And a proof left out after a flag that announces one.
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(encoded.AsSpan(encoded.Length - 4), 1);
        Assert.Equal(MpcErrorCode.MalformedMessage, Refusal(() => KeyGenClientShare.Decode(encoded, Curve)));
    }

    private (RefreshServerSession Server, RefreshClientSession Client) Sessions(TwoPartyKey key, VerifiedRingPedersenCache cache)
    {
        RefreshServerSession server = RefreshServerSession.FromShare(key.Server, ClientKeyShare.PrimaryDevice, RefreshPurpose.Refresh, engine.Backend);
        server.KnownClientParameters = cache.For(User);
        return (server, RefreshClientSession.FromShare(key.Client, RefreshPurpose.Refresh, engine.Auxiliary, engine.Backend));
    }
}
