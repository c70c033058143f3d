using System.Security.Cryptography;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;
using Mpc.Protocol.Signing;

namespace Mpc.Grains.Tests;

/// <summary>The cluster with a clock the tests move, and a user allowed two new Paillier keys per 10 minutes.</summary>
public sealed class PaillierKeyRateFixture : GrainClusterFixture
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);

    public ManualTime Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override TimeProvider Time => Clock;

    /// <summary>Sessions outlive the window, so a refused round can be sent again once it has passed.</summary>
    protected override SignerOptions Signer => new() { MaxPaillierKeysPerUser = 2, PaillierKeyRateWindow = Window, KeyGenSessionLifetime = 2 * Window };
}

/// <summary>
/// The per-user limit on rounds that make a new Paillier key and its proofs (review 2: a device that begins and
/// continues a refresh and abandons it, again and again, had the server make a key each time without limit).
/// </summary>
public sealed class PaillierKeyRateTests(PaillierKeyRateFixture fixture) : IClassFixture<PaillierKeyRateFixture>
{
    private const string Refused = "This user reached its limit of 2 new Paillier keys (key generations, refreshes, enrolments, backups, restores and imports) per 10 minutes; retry in ";

    [Fact]
    public async Task Abandoned_refreshes_count_a_third_new_key_in_the_window_is_refused_with_when_to_retry_and_served_once_the_first_leaves_it()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("paillier-rate-abandoned");
        (KeySummary key, ClientKeyShare share) = await CreateKey(grain, "rate-abandoned");
        using ClientKeyShare generated = share;
        fixture.Clock.Now += TimeSpan.FromMinutes(4);

        // Begun and continued (the server made its key and proofs), then abandoned: it counts all the same.
        using RefreshClientSession abandoned = RefreshClientSession.FromShare(generated, RefreshPurpose.Refresh, fixture.RingPedersen, BigNumBackends.Default);
        RefreshStarted started = await BeginRefresh(grain, generated, abandoned);
        byte[] reply = await grain.ContinueRefresh(key.KeyId, started.RefreshId, abandoned.HandleCommitment(RefreshCommitment.Decode(started.Commitment)).Encode());

        // The device's next refresh would replace it and make a third key: refused at its start, with when the key
        // generation's place (made 4 minutes ago) frees.
        using RefreshClientSession third = RefreshClientSession.FromShare(generated, RefreshPurpose.Refresh, fixture.RingPedersen, BigNumBackends.Default);
        SignerException refused = await Assert.ThrowsAsync<SignerException>(() => BeginRefresh(grain, generated, third));
        Assert.Equal(SignerErrorKind.ResourceExhausted, refused.Kind);
        Assert.Equal(ErrorReasons.RateLimited, refused.Reason);
        Assert.Equal(TimeSpan.FromMinutes(6), refused.RetryAfter);
        Assert.Equal(Refused + "360 s.", refused.Message);

        // The refused start replaced nothing: the refresh in progress still completes.
        RefreshClientOutput output = abandoned.HandleServerShare(RefreshServerShare.Decode(reply, CurveKind.P256));
        await grain.CompleteRefresh(key.KeyId, started.RefreshId, output.Confirmation.Encode());
        using ClientKeyShare refreshed = output.Share;

        // The window slides: once the key generation is 10 minutes old, one more new key is made.
        fixture.Clock.Now += TimeSpan.FromMinutes(6);
        using RefreshClientSession later = RefreshClientSession.FromShare(refreshed, RefreshPurpose.Refresh, fixture.RingPedersen, BigNumBackends.Default);
        RefreshStarted served = await BeginRefresh(grain, refreshed, later);
        byte[] servedReply = await grain.ContinueRefresh(key.KeyId, served.RefreshId, later.HandleCommitment(RefreshCommitment.Decode(served.Commitment)).Encode());
        Assert.NotEqual(RefreshServerShare.Decode(reply, CurveKind.P256).Setup.PaillierModulus, RefreshServerShare.Decode(servedReply, CurveKind.P256).Setup.PaillierModulus);
    }

    [Fact]
    public async Task A_continue_round_past_the_limit_is_refused_stores_nothing_and_the_key_still_signs_with_its_share()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("paillier-rate-continue");
        (KeySummary key, ClientKeyShare share) = await CreateKey(grain, "rate-continue");
        using ClientKeyShare primary = share;
        // Both begun while there is room; each continue round makes a key.
        using RefreshClientSession enrol = RefreshClientSession.FromShare(primary, RefreshPurpose.Enrol, fixture.RingPedersen, BigNumBackends.Default);
        RefreshStarted enrolStarted = await grain.BeginRefresh(key.KeyId,
            new RefreshStart(new DeviceShare(primary.DeviceId, primary.ShareId), RefreshPurpose.Enrol, "tablet", enrol.Start().Encode()));
        using RefreshClientSession refresh = RefreshClientSession.FromShare(primary, RefreshPurpose.Refresh, fixture.RingPedersen, BigNumBackends.Default);
        RefreshStarted refreshStarted = await BeginRefresh(grain, primary, refresh);
        await grain.ContinueRefresh(key.KeyId, enrolStarted.RefreshId, enrol.HandleCommitment(RefreshCommitment.Decode(enrolStarted.Commitment)).Encode());
        IReadOnlyList<DeviceSummary> devicesBefore = await grain.ListDevices(key.KeyId);

        byte[] contribution = refresh.HandleCommitment(RefreshCommitment.Decode(refreshStarted.Commitment)).Encode();
        SignerException refused = await Assert.ThrowsAsync<SignerException>(() => grain.ContinueRefresh(key.KeyId, refreshStarted.RefreshId, contribution));
        Assert.Equal(SignerErrorKind.ResourceExhausted, refused.Kind);
        Assert.Equal(ErrorReasons.RateLimited, refused.Reason);
        Assert.Equal(PaillierKeyRateFixture.Window, refused.RetryAfter);
        Assert.StartsWith(Refused, refused.Message, StringComparison.Ordinal);

        // Nothing was stored: the devices are as they were, and the share the refresh started from signs.
        Assert.Equal(devicesBefore.Select(d => (d.DeviceId, Convert.ToHexString(d.ShareId))), (await grain.ListDevices(key.KeyId)).Select(d => (d.DeviceId, Convert.ToHexString(d.ShareId))));
        Assert.Equal(KeyStatus.Active, (await grain.GetKey(key.KeyId))!.Status);
        await AssertSigns(grain, key, primary);

        // Refused before its work, the session stayed: once the window frees a place, the same contribution is served.
        fixture.Clock.Now += PaillierKeyRateFixture.Window;
        RefreshServerShare served = RefreshServerShare.Decode(await grain.ContinueRefresh(key.KeyId, refreshStarted.RefreshId, contribution), CurveKind.P256);
        using ClientKeyShare next = refresh.HandleServerShare(served).Share;
        Assert.Equal(key.PublicKey, next.SubjectPublicKeyInfo);
    }

    [Fact]
    public async Task A_key_generation_completed_past_the_limit_is_refused_and_stores_no_key()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("paillier-rate-keygen");
        using var first = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        using var second = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        using var third = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        // Three begun while no key has been made: beginning makes none.
        byte[] firstCommitment = await grain.BeginKeyGen("rate-keygen-1", first.Start().Encode());
        byte[] secondCommitment = await grain.BeginKeyGen("rate-keygen-2", second.Start().Encode());
        byte[] thirdCommitment = await grain.BeginKeyGen("rate-keygen-3", third.Start().Encode());
        await grain.CompleteKeyGen("rate-keygen-1", first.HandleCommitment(KeyGenCommitment.Decode(firstCommitment)).Encode());
        await grain.CompleteKeyGen("rate-keygen-2", second.HandleCommitment(KeyGenCommitment.Decode(secondCommitment)).Encode());

        byte[] thirdShare = third.HandleCommitment(KeyGenCommitment.Decode(thirdCommitment)).Encode();
        SignerException refused = await Assert.ThrowsAsync<SignerException>(() => grain.CompleteKeyGen("rate-keygen-3", thirdShare));
        Assert.Equal(SignerErrorKind.ResourceExhausted, refused.Kind);
        Assert.Equal(PaillierKeyRateFixture.Window, refused.RetryAfter);
        Assert.Equal(Refused + "600 s.", refused.Message);
        Assert.Equal(["rate-keygen-1", "rate-keygen-2"], (await grain.ListKeys()).Select(k => k.KeyId).Order());
        Assert.Null(await grain.GetKey("rate-keygen-3"));

        // Refused before its work, the key generation stayed pending: once the window frees a place, the same completion is served.
        fixture.Clock.Now += PaillierKeyRateFixture.Window;
        await grain.CompleteKeyGen("rate-keygen-3", thirdShare);
        Assert.Equal(["rate-keygen-1", "rate-keygen-2", "rate-keygen-3"], (await grain.ListKeys()).Select(k => k.KeyId).Order());
    }

    private static Task<RefreshStarted> BeginRefresh(IUserKeysGrain grain, ClientKeyShare share, RefreshClientSession session) =>
        grain.BeginRefresh(share.KeyId, new RefreshStart(new DeviceShare(share.DeviceId, share.ShareId), RefreshPurpose.Refresh, "", session.Start().Encode()));

    private async Task<(KeySummary Key, ClientKeyShare Share)> CreateKey(IUserKeysGrain grain, string keyId)
    {
        using var client = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        byte[] commitment = await grain.BeginKeyGen(keyId, client.Start().Encode());
        KeyGenCompletion completion = await grain.CompleteKeyGen(keyId, client.HandleCommitment(KeyGenCommitment.Decode(commitment)).Encode());
        return (completion.Key, client.HandleServerShare(KeyGenServerShare.Decode(completion.ServerShare, CurveKind.P256)));
    }

    private static async Task AssertSigns(IUserKeysGrain grain, KeySummary key, ClientKeyShare share)
    {
        var device = new DeviceShare(share.DeviceId, share.ShareId);
        byte[] digest = SHA256.HashData("after the refusal"u8);
        var client = new SignClientSession(share, Digest.Parse(digest));
        SignCommitment commitment = SignCommitment.Decode(await grain.BeginSign(key.KeyId, device));
        SignOpening opening = SignOpening.Decode(await grain.SignNonce(key.KeyId, device, client.HandleCommitment(commitment).Encode()), key.Curve);
        SignCompletion completion = await grain.SignFinish(key.KeyId, commitment.ServerSessionId, client.HandleOpening(opening).Encode(), wantNextCommitment: false);
        EcdsaSignature signature = client.HandleResult(SignResult.Decode(completion.Result, key.Curve));
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(key.Curve, key.PublicKey, digest, signature));
    }
}
