using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Mpc.Server;
using Mpc.Transport.V1;

namespace Mpc.Server.Tests.Service;

/// <summary>A separate server whose opened signing sessions expire after three seconds (the default is 30 s).</summary>
public sealed class OpenedSessionExpiryTests : IAsyncLifetime
{
    private readonly ServerFixture _server = new()
    {
        ConfigureOptions = options =>
        {
            options.Quiet = true;
            // Long enough that a loaded CI machine does not expire the session before the test has counted it.
            options.Signer.OpenedSignSessionLifetime = TimeSpan.FromSeconds(3);
        },
    };

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task An_opened_session_left_unfinished_is_forgotten_after_its_short_lifetime_and_the_key_keeps_signing()
    {
        string token = _server.Token("expiry-user");
        using var client = new MpcSignerClient(_server.Address, token, new MpcSignerClientOptions { DeviceProfileStore = _server.DeviceProfiles });
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        using var raw = new RawSigner(_server.Address, token);
        ISigningSessionsGrain sessions = _server.Grains.GetGrain<ISigningSessionsGrain>("expiry-user");

        SignCommitment commitment = SignCommitment.Decode((await raw.Client.BeginSignAsync(new BeginSignRequest { KeyId = key.KeyId }, raw.Headers)).Commitment.Span);
        var session = new SignClientSession(key.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignNonceResponse opened = await raw.Client.SignNonceAsync(
            new SignNonceRequest { KeyId = key.KeyId, Nonce = ByteString.CopyFrom(session.HandleCommitment(commitment).Encode()) }, raw.Headers);
        Assert.Equal(1, (await sessions.GetSigningSessionCounts(key.KeyId)).Opened);

        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(0, (await sessions.GetSigningSessionCounts(key.KeyId)).Opened);
        SignCiphertext ciphertext = session.HandleOpening(SignOpening.Decode(opened.Opening.Span, CurveKind.P256));
        Assert.Equal(StatusCode.NotFound, await RawSigner.StatusOf(async () => await raw.Client.SignFinishAsync(new SignFinishRequest
        {
            KeyId = key.KeyId,
            SessionId = ByteString.CopyFrom(commitment.ServerSessionId),
            Ciphertext = ByteString.CopyFrom(ciphertext.Encode()),
        }, raw.Headers)));

        byte[] digest = RandomNumberGenerator.GetBytes(32);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, await client.SignDigestAsync(key, digest)));
        Assert.False((await client.GetKeyAsync(key.KeyId)).Frozen);
    }
}
