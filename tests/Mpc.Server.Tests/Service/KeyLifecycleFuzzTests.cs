using Google.Protobuf;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Refresh;
using Mpc.Transport.V1;
using Xunit.Abstractions;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// Mutated protocol payloads (<see cref="Mutations"/>) of the rounds that make or replace a share: the client's share
/// of a key generation, a refresh's contribution and its confirmation. Each comes from a real client session and is
/// mutated once before it is sent. Every reply is a client-error status, or (where the message carries nothing a proof
/// binds) an answer the client then refuses; no mutant stores a key or switches a share, the server never takes
/// ring-Pedersen parameters it did not verify, and afterwards the key still signs with the share it had.
/// A server of its own: every refresh contribution and key generation makes a Paillier key, which the shared
/// server's per-user rate would soon refuse (those refusals would pass, and test nothing).
/// </summary>
public sealed class KeyLifecycleFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ServerFixture _server = new()
    {
        ConfigureOptions = options =>
        {
            options.Quiet = true;
            options.Signer.MaxPaillierKeysPerUser = 10_000;
        },
    };

    // The refusals a malformed payload may get; Internal, Unknown, DataLoss, Unimplemented or Unavailable mean the
    // server failed on the input instead of refusing it.
    private static readonly StatusCode[] Refusals =
    [
        StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.FailedPrecondition, StatusCode.PermissionDenied,
        StatusCode.ResourceExhausted, StatusCode.AlreadyExists, StatusCode.OutOfRange,
    ];

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    private readonly Dictionary<StatusCode, int> _answers = [];

    /// <summary>Prints how the mutants were answered: a run whose mutants all fail in the same place tests little.</summary>
    private void PrintAnswers(string round) =>
        output.WriteLine($"{round}: " + string.Join(", ", _answers.OrderByDescending(a => a.Value).Select(a => $"{a.Key} {a.Value}")));

    private StatusCode Counted(StatusCode status)
    {
        _answers[status] = _answers.GetValueOrDefault(status) + 1;
        return status;
    }

    private static void AssertRefused(Mutations mutations, string round, Mutant mutant, StatusCode status)
    {
        if (!Refusals.Contains(status))
        {
            throw mutations.Failure(mutant, new RpcException(new Status(status, status == StatusCode.OK ? "accepted" : "as the server answered")), round);
        }
    }

    /// <summary>A new key of <paramref name="user"/> made by the SDK: its client share, exported.</summary>
    private async Task<byte[]> NewKey(string user)
    {
        using MpcSignerClient client = _server.Client(user);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        return key.Share.ExportSecret();
    }

    /// <summary>The stored key is not frozen, has its public key, and signs with <paramref name="share"/>.</summary>
    private async Task AssertSignsWith(string user, byte[] share)
    {
        using MpcSignerClient client = _server.Client(user);
        using MpcKey key = client.OpenKey(ClientKeyShare.ImportSecret(share, BigNumBackends.Default));
        await StoredKeyAssert.SignsAsBefore(client, key);
    }

    /// <summary>Rounds 1 to 3 of a refresh of <paramref name="source"/>'s pair: the session, the server's answer and the client's contribution.</summary>
    private async Task<(RefreshClientSession Session, BeginRefreshResponse Started, RefreshContribution Contribution)> StartRefresh(RawSigner raw, ClientKeyShare source)
    {
        var session = RefreshClientSession.FromShare(source, Protocol.Messages.RefreshPurpose.Refresh, _server.RingPedersen, BigNumBackends.Default);
        try
        {
            BeginRefreshResponse started = await raw.Client.BeginRefreshAsync(new BeginRefreshRequest
            {
                KeyId = source.KeyId,
                DeviceId = source.DeviceId,
                ShareId = ByteString.CopyFrom(source.ShareId),
                Purpose = Transport.V1.RefreshPurpose.Refresh,
                Request = ByteString.CopyFrom(session.Start().Encode()),
            }, raw.Headers);
            return (session, started, session.HandleCommitment(RefreshCommitment.Decode(started.Commitment.Span)));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    [Fact]
    public async Task Mutated_key_generation_shares_are_refused_and_store_no_key()
    {
        const string user = "lifecycle-fuzz-keygen";
        using RawSigner raw = _server.Raw(_server.Token(user));
        var mutations = new Mutations("CompleteKeyGen client share");
        for (int i = 0; i < Mutations.Iterations(10); i++)
        {
            using var session = new KeyGenClientSession(CurveKind.P256, _server.RingPedersen, BigNumBackends.Default);
            BeginKeyGenResponse begun = await raw.Client.BeginKeyGenAsync(
                new BeginKeyGenRequest { Request = ByteString.CopyFrom(session.Start().Encode()) }, raw.Headers);
            KeyGenClientShare share = session.HandleCommitment(KeyGenCommitment.Decode(begun.Commitment.Span));
            Mutant mutant = mutations.Of(share.Encode(), 1).Single() with { Index = i };
            var request = new CompleteKeyGenRequest { KeyId = begun.KeyId, ClientShare = ByteString.CopyFrom(mutant.Bytes) };
            // Every byte of the share is bound by its proofs (Q2 by its Schnorr proof, the parameters by Πprm or by the
            // server's memory of them) or by the strict encoding: a mutant is never taken.
            AssertRefused(mutations, "CompleteKeyGen", mutant, Counted(await RawSigner.StatusOf(async () => await raw.Client.CompleteKeyGenAsync(request, raw.Headers))));
            Assert.Empty((await raw.Client.ListKeysAsync(new ListKeysRequest(), raw.Headers)).Keys);
        }
        PrintAnswers("CompleteKeyGen");
        // The refused generations hold nothing of the user's: the next one completes and its key signs.
        await AssertSignsWith(user, await NewKey(user));
    }

    [Fact]
    public async Task Mutated_refresh_contributions_never_switch_the_share_nor_bring_unverified_parameters()
    {
        const string user = "lifecycle-fuzz-contribution";
        byte[] current = await NewKey(user);
        using RawSigner raw = _server.Raw(_server.Token(user));
        var mutations = new Mutations("ContinueRefresh contribution");
        for (int i = 0; i < Mutations.Iterations(10); i++)
        {
            using ClientKeyShare source = ClientKeyShare.ImportSecret(current, BigNumBackends.Default);
            (RefreshClientSession session, BeginRefreshResponse started, RefreshContribution contribution) = await StartRefresh(raw, source);
            using RefreshClientSession disposed = session;
            Mutant mutant = mutations.Of(contribution.Encode(), 1).Single() with { Index = i };
            ContinueRefreshResponse? continued = null;
            StatusCode status = await RawSigner.StatusOf(async () => continued = await raw.Client.ContinueRefreshAsync(new ContinueRefreshRequest
            {
                KeyId = source.KeyId,
                RefreshId = started.RefreshId,
                Contribution = ByteString.CopyFrom(mutant.Bytes),
            }, raw.Headers));
            if (Counted(status) != StatusCode.OK)
            {
                AssertRefused(mutations, "ContinueRefresh", mutant, status);
                continue;
            }
            // Taken: only the factor r2 is the client's to choose freely. Parameters other than the device's would be
            // ones the server never verified (no Πprm came with them, or it failed).
            RefreshContribution taken = RefreshContribution.Decode(mutant.Bytes, CurveKind.P256);
            if (!taken.RingPedersen.Equals(contribution.RingPedersen))
            {
                throw mutations.Failure(mutant, new InvalidOperationException("the server took ring-Pedersen parameters the device never proved"), "ContinueRefresh");
            }
            // The server's reply answers another r2 than the session chose, so the client refuses it: nothing is confirmed.
            Assert.Throws<MpcProtocolException>(() => session.HandleServerShare(RefreshServerShare.Decode(continued!.ServerShare.Span, CurveKind.P256)));
        }
        PrintAnswers("ContinueRefresh");
        await AssertSignsWith(user, current);
    }

    [Fact]
    public async Task Mutated_refresh_confirmations_are_refused_and_the_key_keeps_its_share()
    {
        const string user = "lifecycle-fuzz-confirmation";
        byte[] current = await NewKey(user);
        using RawSigner raw = _server.Raw(_server.Token(user));
        var mutations = new Mutations("CompleteRefresh confirmation");
        // Few: each runs a whole refresh up to its last round (a new Paillier key and the client's checks of it).
        for (int i = 0; i < Mutations.Iterations(5); i++)
        {
            using ClientKeyShare source = ClientKeyShare.ImportSecret(current, BigNumBackends.Default);
            (RefreshClientSession session, BeginRefreshResponse started, RefreshContribution contribution) = await StartRefresh(raw, source);
            using RefreshClientSession disposed = session;
            ContinueRefreshResponse continued = await raw.Client.ContinueRefreshAsync(new ContinueRefreshRequest
            {
                KeyId = source.KeyId,
                RefreshId = started.RefreshId,
                Contribution = ByteString.CopyFrom(contribution.Encode()),
            }, raw.Headers);
            RefreshClientOutput output = session.HandleServerShare(RefreshServerShare.Decode(continued.ServerShare.Span, CurveKind.P256));
            using ClientKeyShare unconfirmed = output.Share;
            Mutant mutant = mutations.Of(output.Confirmation.Encode(), 1).Single() with { Index = i };
            // Q2' with its Schnorr proof, strictly encoded: a mutant proves nothing, and the key must not move to it.
            AssertRefused(mutations, "CompleteRefresh", mutant, Counted(await RawSigner.StatusOf(async () => await raw.Client.CompleteRefreshAsync(new CompleteRefreshRequest
            {
                KeyId = source.KeyId,
                RefreshId = started.RefreshId,
                Confirmation = ByteString.CopyFrom(mutant.Bytes),
            }, raw.Headers))));
        }
        PrintAnswers("CompleteRefresh");
        await AssertSignsWith(user, current);
    }
}
