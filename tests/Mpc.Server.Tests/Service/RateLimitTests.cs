using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Server;

namespace Mpc.Server.Tests.Service;

/// <summary>A separate in-process server whose keys may sign 3 times per 3-second window, and whose users may make one Paillier key per 10 minutes.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);
    private readonly ServerFixture _server = new()
    {
        ConfigureOptions = options =>
        {
            options.Signer.MaxSignaturesPerKey = 3;
            options.Signer.SignatureRateWindow = Window;
            options.Signer.MaxPaillierKeysPerUser = 1;
        },
    };

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task The_fourth_signature_in_a_window_is_refused_at_BeginSign_with_RetryInfo_unaudited_and_the_key_signs_again_after_the_window()
    {
        string token = _server.Token("rate-user");
        using var client = new MpcSignerClient(_server.Address, token, new MpcSignerClientOptions { DeviceProfileStore = _server.DeviceProfiles });
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        for (int i = 0; i < 3; i++)
        {
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            MpcSignature signature = await client.SignDigestAsync(key, digest);
            Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, signature));
        }
        byte[] refusedDigest = RandomNumberGenerator.GetBytes(32);
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.SignDigestAsync(key, refusedDigest));
        Assert.Equal(StatusCode.ResourceExhausted, refused.Status);
        Assert.Contains("limit of 3 signatures per 3 s; retry in", refused.Message, StringComparison.Ordinal);
        // The reply's google.rpc details: the stable reason, and a RetryInfo no longer than the window.
        Assert.Equal(MpcErrorReason.RateLimited, refused.Reason);
        Assert.NotNull(refused.RetryAfter);
        Assert.InRange(refused.RetryAfter.Value, TimeSpan.FromSeconds(1), Window);
        Assert.False((await client.GetKeyAsync(key.KeyId)).Frozen);

        // The third signature brought no next commitment, so the fourth was refused at BeginSign, before any session or
        // digest: nothing of it is in the chain (the key generation and three signatures are).
        MpcAuditPage log = await AuditLogs.WaitForEntriesAsync(client, key.KeyId, 4);
        Assert.True(MpcAuditLog.Verify(key.KeyId, log.Entries).IsValid);
        Assert.Equal(3, log.Entries.Count(e => e.Event == "sign" && e.Outcome == "ok"));
        Assert.DoesNotContain(log.Entries, e => e.Outcome == "rate-limited");
        await Task.Delay(300);
        Assert.Equal(4, (await client.GetAuditLogAsync(key.KeyId)).Entries.Count);

        // The window slides: once the earlier signatures are older than it, the key signs again.
        await Task.Delay(Window + TimeSpan.FromMilliseconds(200));
        byte[] later = RandomNumberGenerator.GetBytes(32);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, later, await client.SignDigestAsync(key, later)));
    }

    [Fact]
    public async Task A_key_generation_past_the_users_Paillier_key_limit_is_ResourceExhausted_with_RetryInfo_and_stores_nothing()
    {
        using var client = new MpcSignerClient(_server.Address, _server.Token("paillier-rate-user"), new MpcSignerClientOptions { DeviceProfileStore = _server.DeviceProfiles });
        using MpcKey first = await client.CreateKeyAsync(CurveKind.P256);

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.CreateKeyAsync(CurveKind.P256));
        Assert.Equal(StatusCode.ResourceExhausted, refused.Status);
        Assert.Equal(MpcErrorReason.RateLimited, refused.Reason);
        Assert.Contains("This user reached its limit of 1 new Paillier keys (key generations, refreshes, enrolments, backups, restores and imports) per 10 minutes; retry in ", refused.Message, StringComparison.Ordinal);
        Assert.NotNull(refused.RetryAfter);
        Assert.InRange(refused.RetryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
        Assert.Equal([first.KeyId], (await client.ListKeysAsync()).Select(k => k.KeyId));
    }
}
