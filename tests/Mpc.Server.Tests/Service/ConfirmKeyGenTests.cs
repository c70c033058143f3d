using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Protocol;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Transport.V1;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// Over the wire: a CompleteKeyGen with confirm_later stores nothing (no key, no claimed id) until ConfirmKeyGen, which
/// only the user who began it can send, once; unconfirmed, the key expires with the pending key generations' lifetime.
/// A separate server whose key generations live a few seconds, so that expiry is observed rather than assumed.
/// </summary>
public sealed class ConfirmKeyGenTests : IAsyncLifetime
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(8);

    private readonly ServerFixture _server = new()
    {
        ConfigureOptions = options =>
        {
            options.Quiet = true;
            options.Signer.KeyGenSessionLifetime = Lifetime;
        },
    };

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    /// <summary>Rounds 1 to 4 with confirm_later; the client's session is left ready for the server's share.</summary>
    private async Task<(KeyGenClientSession Session, string KeyId, CompleteKeyGenResponse Completed)> CompletedToConfirm(RawSigner raw)
    {
        var session = new KeyGenClientSession(CurveKind.P256, _server.RingPedersen, BigNumBackends.Default);
        BeginKeyGenResponse begun = await raw.Client.BeginKeyGenAsync(new BeginKeyGenRequest { Request = ByteString.CopyFrom(session.Start().Encode()) }, raw.Headers);
        Assert.True(begun.ConfirmLaterSupported);
        KeyGenClientShare share = session.HandleCommitment(KeyGenCommitment.Decode(begun.Commitment.Span));
        CompleteKeyGenResponse completed = await raw.Client.CompleteKeyGenAsync(
            new CompleteKeyGenRequest { KeyId = begun.KeyId, ClientShare = ByteString.CopyFrom(share.Encode()), ConfirmLater = true }, raw.Headers);
        return (session, begun.KeyId, completed);
    }

    private static Task<StatusCode> Confirm(RawSigner raw, string keyId) =>
        RawSigner.StatusOf(async () => await raw.Client.ConfirmKeyGenAsync(new ConfirmKeyGenRequest { KeyId = keyId }, raw.Headers));

    private static Task<StatusCode> Get(RawSigner raw, string keyId) =>
        RawSigner.StatusOf(async () => await raw.Client.GetKeyAsync(new GetKeyRequest { KeyId = keyId }, raw.Headers));

    [Fact]
    public async Task A_key_completed_to_confirm_later_is_stored_only_when_confirmed_and_a_repeated_confirmation_returns_it()
    {
        const string user = "confirm-later";
        using RawSigner raw = _server.Raw(_server.Token(user));
        (KeyGenClientSession session, string keyId, CompleteKeyGenResponse completed) = await CompletedToConfirm(raw);
        using KeyGenClientSession disposed = session;

        Assert.True(completed.AwaitingConfirmation);
        Assert.Null(completed.Key);
        Assert.Equal(StatusCode.NotFound, await Get(raw, keyId));
        Assert.Empty((await raw.Client.ListKeysAsync(new ListKeysRequest(), raw.Headers)).Keys);

        ClientKeyShare share = session.HandleServerShare(KeyGenServerShare.Decode(completed.ServerShare.Span, CurveKind.P256));
        KeyInfo stored = await raw.Client.ConfirmKeyGenAsync(new ConfirmKeyGenRequest { KeyId = keyId }, raw.Headers);

        Assert.Equal(keyId, stored.KeyId);
        Assert.Equal(KeyStatus.Active, stored.Status);
        Assert.Equal(PublicKeyEncoding.ToSubjectPublicKeyInfo(EcCurve.Get(CurveKind.P256), share.PublicKey), stored.PublicKey.ToByteArray());
        Assert.Equal(StatusCode.OK, await Get(raw, keyId));
        // A device whose reply was lost asks again, and gets the same key (nothing stored twice).
        KeyInfo again = await raw.Client.ConfirmKeyGenAsync(new ConfirmKeyGenRequest { KeyId = keyId }, raw.Headers);
        Assert.Equal(stored, again);

        using var client = new MpcSignerClient(_server.Address, _server.Token(user));
        using MpcKey key = client.OpenKey(share);
        byte[] data = RandomNumberGenerator.GetBytes(40);
        MpcSignature signature = await client.SignDataAsync(key, data);
        using ECDsa verifier = ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo(stored.PublicKey.Span, out _);
        Assert.True(verifier.VerifyData(data, signature.ToDer(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        Assert.Single(await client.ListKeysAsync());
    }

    [Fact]
    public async Task An_unconfirmed_key_expires_and_nothing_of_it_is_stored()
    {
        using RawSigner raw = _server.Raw(_server.Token("confirm-expired"));
        (KeyGenClientSession session, string keyId, _) = await CompletedToConfirm(raw);
        session.Dispose();

        await Task.Delay(Lifetime + TimeSpan.FromSeconds(1));

        Assert.Equal(StatusCode.NotFound, await Confirm(raw, keyId));
        Assert.Equal(StatusCode.NotFound, await Get(raw, keyId));
        Assert.Empty((await raw.Client.ListKeysAsync(new ListKeysRequest(), raw.Headers)).Keys);
        // The id was never claimed: no other user is told it belongs to someone.
        using RawSigner other = _server.Raw(_server.Token("confirm-expired-other"));
        Assert.Equal(StatusCode.NotFound, await Get(other, keyId));
    }

    [Fact]
    public async Task Only_the_user_who_began_it_confirms_a_key_and_unknown_or_malformed_ids_are_refused()
    {
        using RawSigner owner = _server.Raw(_server.Token("confirm-owner"));
        using RawSigner intruder = _server.Raw(_server.Token("confirm-intruder"));
        (KeyGenClientSession session, string keyId, _) = await CompletedToConfirm(owner);
        session.Dispose();

        // The id is unclaimed until confirmed, so another user's confirmation reaches their own (empty) key generations.
        Assert.Equal(StatusCode.NotFound, await Confirm(intruder, keyId));
        Assert.Empty((await intruder.Client.ListKeysAsync(new ListKeysRequest(), intruder.Headers)).Keys);
        Assert.Equal(StatusCode.NotFound, await Confirm(owner, KeyIds.New()));
        Assert.Equal(StatusCode.InvalidArgument, await Confirm(owner, "not a key id"));
        using (RawSigner anonymous = _server.Raw(null))
        {
            Assert.Equal(StatusCode.Unauthenticated, await Confirm(anonymous, keyId));
        }

        Assert.Equal(StatusCode.OK, await Confirm(owner, keyId));
        Assert.Equal(StatusCode.PermissionDenied, await Confirm(intruder, keyId));
    }

    [Fact]
    public async Task A_completion_without_confirm_later_stores_the_key_at_once_as_before()
    {
        using RawSigner raw = _server.Raw(_server.Token("confirm-not-asked"));
        using var session = new KeyGenClientSession(CurveKind.P256, _server.RingPedersen, BigNumBackends.Default);
        BeginKeyGenResponse begun = await raw.Client.BeginKeyGenAsync(new BeginKeyGenRequest { Request = ByteString.CopyFrom(session.Start().Encode()) }, raw.Headers);
        KeyGenClientShare share = session.HandleCommitment(KeyGenCommitment.Decode(begun.Commitment.Span));
        CompleteKeyGenResponse completed = await raw.Client.CompleteKeyGenAsync(
            new CompleteKeyGenRequest { KeyId = begun.KeyId, ClientShare = ByteString.CopyFrom(share.Encode()) }, raw.Headers);

        Assert.False(completed.AwaitingConfirmation);
        Assert.Equal(begun.KeyId, completed.Key.KeyId);
        Assert.Equal(StatusCode.OK, await Get(raw, begun.KeyId));
        Assert.Equal(StatusCode.OK, await Confirm(raw, begun.KeyId));
        Assert.Single((await raw.Client.ListKeysAsync(new ListKeysRequest(), raw.Headers)).Keys);
    }

    [Fact]
    public async Task A_third_key_awaiting_confirmation_is_resource_exhausted_before_any_work_and_its_key_generation_can_still_complete()
    {
        using RawSigner raw = _server.Raw(_server.Token("confirm-cap"));
        for (int i = 0; i < 2; i++)
        {
            (KeyGenClientSession waiting, _, _) = await CompletedToConfirm(raw);
            waiting.Dispose();
        }
        using var session = new KeyGenClientSession(CurveKind.P256, _server.RingPedersen, BigNumBackends.Default);
        BeginKeyGenResponse begun = await raw.Client.BeginKeyGenAsync(new BeginKeyGenRequest { Request = ByteString.CopyFrom(session.Start().Encode()) }, raw.Headers);
        ByteString share = ByteString.CopyFrom(session.HandleCommitment(KeyGenCommitment.Decode(begun.Commitment.Span)).Encode());

        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await raw.Client.CompleteKeyGenAsync(
            new CompleteKeyGenRequest { KeyId = begun.KeyId, ClientShare = share, ConfirmLater = true }, raw.Headers));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("await confirmation", refused.Status.Detail, StringComparison.Ordinal);
        CompleteKeyGenResponse stored = await raw.Client.CompleteKeyGenAsync(new CompleteKeyGenRequest { KeyId = begun.KeyId, ClientShare = share }, raw.Headers);
        Assert.Equal(begun.KeyId, stored.Key.KeyId);
    }
}
