using Google.Protobuf;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Messages;
using Mpc.Transport.V1;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// Over the wire: once a user's device parameters are verified, round 2 of the next key generation names them and a
/// round 3 without their Πprm makes a key; a round 3 without Πprm for parameters the server did not name is refused
/// with InvalidArgument, and nothing is stored.
/// </summary>
[Collection("server")]
public sealed class KnownDeviceParametersTests(ServerFixture server)
{
    [Fact]
    public async Task The_second_key_of_a_device_is_made_without_its_parameters_proof()
    {
        const string user = "known-parameters-wire";
        using (var client = new MpcSignerClient(server.Address, server.Token(user), new MpcSignerClientOptions { DeviceProfileStore = server.DeviceProfiles }))
        using (MpcKey first = await client.CreateKeyAsync(CurveKind.P256))
        {
            Assert.NotNull(first.KeyId);
        }

        using RawSigner raw = new(server.Address, server.Token(user));
        using var session = new KeyGenClientSession(CurveKind.P256, server.RingPedersen, BigNumBackends.Default);
        BeginKeyGenResponse begun = await raw.Client.BeginKeyGenAsync(new BeginKeyGenRequest { Request = ByteString.CopyFrom(session.Start().Encode()) }, raw.Headers);
        KeyGenCommitment commitment = KeyGenCommitment.Decode(begun.Commitment.Span);
        Assert.True(commitment.Names(server.RingPedersen.Parameters));

        KeyGenClientShare share = session.HandleCommitment(commitment);
        Assert.Null(share.RingPedersenProof);
        CompleteKeyGenResponse completed = await raw.Client.CompleteKeyGenAsync(
            new CompleteKeyGenRequest { KeyId = begun.KeyId, ClientShare = ByteString.CopyFrom(share.Encode()) }, raw.Headers);
        using var key = session.HandleServerShare(KeyGenServerShare.Decode(completed.ServerShare.Span, CurveKind.P256));
        Assert.Equal(begun.KeyId, key.KeyId);
    }

    [Fact]
    public async Task A_round_3_without_the_proof_of_parameters_the_server_did_not_name_is_refused_and_stores_nothing()
    {
        const string user = "unknown-parameters-wire";
        using RawSigner raw = new(server.Address, server.Token(user));
        using var session = new KeyGenClientSession(CurveKind.P256, server.RingPedersen, BigNumBackends.Default);
        BeginKeyGenResponse begun = await raw.Client.BeginKeyGenAsync(new BeginKeyGenRequest { Request = ByteString.CopyFrom(session.Start().Encode()) }, raw.Headers);
        KeyGenCommitment commitment = KeyGenCommitment.Decode(begun.Commitment.Span);
        Assert.Empty(commitment.KnownClientParameters!);

        KeyGenClientShare share = session.HandleCommitment(commitment);
        Assert.NotNull(share.RingPedersenProof);
        var proofless = new CompleteKeyGenRequest { KeyId = begun.KeyId, ClientShare = ByteString.CopyFrom((share with { RingPedersenProof = null }).Encode()) };
        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await raw.Client.CompleteKeyGenAsync(proofless, raw.Headers));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("Ring-Pedersen proof missing", refused.Status.Detail, StringComparison.Ordinal);
        using var client = new MpcSignerClient(server.Address, server.Token(user));
        Assert.Empty(await client.ListKeysAsync());
    }
}
