using Mpc.Client;
using Mpc.Client.DeviceProfiles;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.Keys;

namespace Mpc.Client.Tests.Sdk;

/// <summary>
/// <see cref="MpcSignerClient.RefreshKeyFileAsync"/> and <see cref="MpcSignerClient.OpenKeyFileAsync"/>: a refresh, and
/// a key's first signing commitment, started from a key file's clear header (and the device's public parameters) while
/// the share is still being opened. The share is a task the test completes by hand, so "the round trips ran before the
/// share was there" is observed (the server's reply seen), not timed.
/// </summary>
[Collection("server")]
public sealed class RefreshKeyFileTests(ServerFixture server)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private MpcSignerClient Client(string user, CallLog? calls = null, RingPedersenParameters? peeked = null, bool canPeek = true, IDeviceProfileStore? store = null) =>
        new(server.Address, server.Token(user), new MpcSignerClientOptions
        {
            DeviceProfileStore = store ?? (canPeek ? new PeekingStore(server.DeviceProfiles, peeked ?? server.RingPedersen.Parameters) : server.DeviceProfiles),
            HttpHandler = calls,
        });

    private static KeyFileInfo HeaderOf(MpcKey key, bool version1 = false) =>
        new(key.KeyId, "user", key.Curve, key.PublicKeyPem, true, null,
            version1 ? null : key.Share.DeviceId, version1 ? null : Convert.ToHexStringLower(key.Share.ShareId));

    private static ClientKeyShare Copy(MpcKey key) => ClientKeyShare.ImportSecret(key.Share.ExportSecret(), Mpc.Crypto.BigNum.BigNumBackends.Default);

    /// <summary>A client whose calls are logged, with a new key of <paramref name="user"/>.</summary>
    private async Task<(CallLog Calls, MpcSignerClient Client, MpcKey Key)> Logged(string user)
    {
        var calls = new CallLog();
        MpcSignerClient client = Client(user, calls);
        return (calls, client, await client.CreateKeyAsync(CurveKind.P256));
    }

    /// <summary>A new key of <paramref name="user"/>, and its refresh started with the share still opening, once round 4 has arrived.</summary>
    private async Task<(MpcSignerClient Client, MpcKey Key, TaskCompletionSource<ClientKeyShare> Opening, Task<MpcKey> Refreshing)> AtRound4WithoutTheShare(string user)
    {
        (CallLog calls, MpcSignerClient client, MpcKey key) = await Logged(user);
        var opening = new TaskCompletionSource<ClientKeyShare>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<MpcKey> refreshing = client.RefreshKeyFileAsync(HeaderOf(key), opening.Task);
        await calls.Continued.WaitAsync(Patience);
        return (client, key, opening, refreshing);
    }

    [Fact]
    public async Task The_first_round_trips_and_the_servers_new_key_happen_while_the_share_is_still_opening()
    {
        (MpcSignerClient client, MpcKey key, TaskCompletionSource<ClientKeyShare> opening, Task<MpcKey> refreshing) = await AtRound4WithoutTheShare("refresh-opening-a");
        using MpcSignerClient _ = client;
        using MpcKey __ = key;

        // Round 4 arrived although the share has not been handed over: the server's work overlapped the opening.
        Assert.False(refreshing.IsCompleted);
        using ClientKeyShare opened = Copy(key);
        opening.SetResult(opened);
        using MpcKey refreshed = await refreshing.WaitAsync(Patience);

        Assert.Equal(key.PublicKeyPem, refreshed.PublicKeyPem);
        Assert.NotEqual(key.Share.ShareId, refreshed.Share.ShareId);
        await OpeningChecks.AssertSigns(client, refreshed);
        MpcSignerException old = await Assert.ThrowsAsync<MpcSignerException>(() => OpeningChecks.AssertSigns(client, key));
        Assert.Equal(Grpc.Core.StatusCode.FailedPrecondition, old.Status);
    }

    [Fact]
    public async Task A_share_that_fails_to_open_is_the_error_reported_and_the_key_is_unchanged()
    {
        (MpcSignerClient client, MpcKey key, TaskCompletionSource<ClientKeyShare> opening, Task<MpcKey> refreshing) = await AtRound4WithoutTheShare("refresh-opening-b");
        using MpcSignerClient _ = client;
        using MpcKey __ = key;

        opening.SetException(new MpcSignerException(MpcErrorReason.WrongPassphrase, "key file: wrong passphrase, or the file was modified"));
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => refreshing.WaitAsync(Patience));

        Assert.Equal(MpcErrorReason.WrongPassphrase, refused.Reason);
        await OpeningChecks.AssertSigns(client, key);
    }

    [Fact]
    public async Task When_the_key_file_and_the_profile_both_fail_to_open_the_key_files_error_is_reported()
    {
        const string user = "refresh-opening-f";
        using MpcKey key = await Client(user).CreateKeyAsync(CurveKind.P256);
        using MpcSignerClient client = Client(user, store: new RefusingStore(server.RingPedersen.Parameters));
        Task<ClientKeyShare> opening = Task.FromException<ClientKeyShare>(
            new MpcSignerException(MpcErrorReason.WrongPassphrase, "wrong passphrase or corrupted key file (AES-GCM cannot tell a wrong passphrase from a modified file)"));

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.RefreshKeyFileAsync(HeaderOf(key), opening));

        Assert.Equal(MpcErrorReason.WrongPassphrase, refused.Reason);
        Assert.StartsWith("wrong passphrase or corrupted key file", refused.Message, StringComparison.Ordinal);
        await OpeningChecks.AssertSigns(Client(user), key);
    }

    [Fact]
    public async Task A_share_other_than_the_header_named_is_refused_before_the_server_switches()
    {
        const string user = "refresh-opening-c";
        using MpcSignerClient client = Client(user);
        using MpcKey named = await client.CreateKeyAsync(CurveKind.P256);
        using MpcKey other = await client.CreateKeyAsync(CurveKind.P256);
        using ClientKeyShare otherShare = Copy(other);

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(
            () => client.RefreshKeyFileAsync(HeaderOf(named), Task.FromResult(otherShare)));

        Assert.Equal(MpcErrorReason.SessionMismatch, refused.Reason);
        await OpeningChecks.AssertSigns(client, named);
        await OpeningChecks.AssertSigns(client, other);
    }

    [Fact]
    public async Task A_profile_header_naming_other_parameters_than_the_opened_profile_is_refused_and_the_key_is_unchanged()
    {
        const string user = "refresh-opening-d";
        using MpcKey key = await Client(user).CreateKeyAsync(CurveKind.P256);
        // Some other valid set: the server has not verified it, so the refresh waits for the profile, whose parameters differ.
        using var paillier = Mpc.Crypto.Paillier.PaillierPrivateKey.Generate(Mpc.Crypto.BigNum.BigNumBackends.Default);
        using RingPedersenSecret otherSet = RingPedersenSecret.DeriveFromPaillier(paillier);
        using MpcSignerClient client = Client(user, peeked: otherSet.Parameters);
        using ClientKeyShare opened = Copy(key);

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(
            () => client.RefreshKeyFileAsync(HeaderOf(key), Task.FromResult(opened)));

        Assert.Equal(MpcErrorReason.SessionMismatch, refused.Reason);
        await OpeningChecks.AssertSigns(client, key);
    }

    [Fact]
    public async Task A_key_opened_from_its_file_fetches_its_first_commitment_during_the_opening_and_signs_in_two_round_trips()
    {
        (CallLog calls, MpcSignerClient client, MpcKey made) = await Logged("sign-opening-a");
        using MpcSignerClient _ = client;
        using MpcKey __ = made;
        var opening = new TaskCompletionSource<ClientKeyShare>(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<MpcKey> opened = client.OpenKeyFileAsync(HeaderOf(made), opening.Task);
        await calls.Seen("BeginSign").WaitAsync(Patience);
        Assert.False(opened.IsCompleted);
        opening.SetResult(Copy(made));
        using MpcKey key = await opened.WaitAsync(Patience);
        calls.Take();

        await OpeningChecks.AssertSigns(client, key);
        Assert.Equal(["SignNonce", "SignFinish"], calls.Take());
    }

    [Fact]
    public async Task A_commitment_fetched_for_a_header_other_than_the_opened_share_is_dropped_and_the_key_still_signs()
    {
        (CallLog calls, MpcSignerClient client, MpcKey named) = await Logged("sign-opening-b");
        using MpcSignerClient _ = client;
        using MpcKey __ = named;
        using MpcKey other = await client.CreateKeyAsync(CurveKind.P256);

        using MpcKey key = await client.OpenKeyFileAsync(HeaderOf(named), Task.FromResult(Copy(other)));
        calls.Take();

        Assert.Equal(other.KeyId, key.KeyId);
        await OpeningChecks.AssertSigns(client, key);
        Assert.Equal(["BeginSign", "SignNonce", "SignFinish"], calls.Take());
    }

    [Fact]
    public async Task A_key_file_that_fails_to_open_for_signing_reports_its_own_error()
    {
        const string user = "sign-opening-c";
        using MpcSignerClient client = Client(user);
        using MpcKey made = await client.CreateKeyAsync(CurveKind.P256);
        Task<ClientKeyShare> opening = Task.FromException<ClientKeyShare>(
            new MpcSignerException(MpcErrorReason.WrongPassphrase, "wrong passphrase or corrupted key file (AES-GCM cannot tell a wrong passphrase from a modified file)"));

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.OpenKeyFileAsync(HeaderOf(made), opening));

        Assert.Equal(MpcErrorReason.WrongPassphrase, refused.Reason);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task A_version_1_header_or_a_store_that_cannot_peek_refreshes_after_the_opening(bool version1, bool canPeek)
    {
        string user = $"refresh-opening-e{version1}";
        using MpcSignerClient client = Client(user, canPeek: canPeek);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        using ClientKeyShare opened = Copy(key);

        using MpcKey refreshed = await client.RefreshKeyFileAsync(HeaderOf(key, version1), Task.FromResult(opened));

        Assert.Equal(key.PublicKeyPem, refreshed.PublicKeyPem);
        await OpeningChecks.AssertSigns(client, refreshed);
    }
}
