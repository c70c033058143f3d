using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Grains.Sealing;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace Mpc.Grains.Tests;

/// <summary>
/// One silo of Orleans' <see cref="InProcessTestCluster"/> (silo and client in this process, in-memory membership, ports
/// the test host allocates) with the user grain, in-memory storage that fails on demand, and a recording audit trail.
/// </summary>
public sealed class GrainClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The cluster's client: grain references as the gRPC service gets them.</summary>
    public IGrainFactory GrainFactory => Cluster.Client;

    public RingPedersenSecret RingPedersen { get; } = RingPedersenSecret.Generate(BigNumBackends.Default);

    internal FlakyGrainStorage Storage => Silo.GetRequiredService<FlakyGrainStorage>();

    internal RecordingAudit Audit => Silo.GetRequiredService<RecordingAudit>();

    private IServiceProvider Silo => Cluster.Silos[0].ServiceProvider;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => ConfigureSilo(silo));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        RingPedersen.Dispose();
    }

    private static void ConfigureSilo(ISiloBuilder silo)
    {
        silo.Services.AddMetrics();
        silo.Services.AddSingleton(TimeProvider.System);
        silo.Services.AddSingleton<Telemetry.SignerMetrics>();
        silo.Services.AddSingleton(BigNumBackends.Default);
        silo.Services.AddSingleton(Options.Create(new SignerOptions()));
        silo.Services.AddSingleton<RecordingAudit>();
        silo.Services.AddSingleton<IKeyAuditTrail>(sp => sp.GetRequiredService<RecordingAudit>());
        silo.Services.AddSingleton<IKeyEncryptionKeyProvider, InMemoryKeyEncryptionKey>();
        silo.Services.AddSingleton(sp => new ShareSealer(sp.GetRequiredService<IKeyEncryptionKeyProvider>()));
        silo.Services.AddSingleton(sp => new FlakyGrainStorage(sp.GetRequiredService<Serializer>()));
        silo.Services.AddGrainStorage(StorageNames.Keys, (sp, _) => sp.GetRequiredService<FlakyGrainStorage>());
    }
}

/// <summary>The user grain through its interface: the router (a whole signature), its key record's roll-back, its session cap, and a freeze.</summary>
public sealed class UserKeysGrainClusterTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    [Fact]
    public async Task A_key_whose_store_fails_is_not_kept_and_a_second_key_generation_stores_it()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("rollback-user");
        fixture.Storage.FailingStates["keys"] = true;
        try
        {
            SignerException e = await Assert.ThrowsAsync<SignerException>(() => CreateKey(grain, "key-rollback-1"));
            Assert.Equal(SignerErrorKind.Internal, e.Kind);
            Assert.Equal("The key could not be stored; nothing was kept. Try again.", e.Message);
        }
        finally
        {
            fixture.Storage.FailingStates.TryRemove("keys", out _);
        }
        Assert.Empty(await grain.ListKeys());
        Assert.DoesNotContain(fixture.Audit.Events, e => e.KeyId == "key-rollback-1");

        KeySummary stored = await CreateKey(grain, "key-rollback-2");
        Assert.Equal(KeyStatus.Active, stored.Status);
        Assert.Equal(["key-rollback-2"], (await grain.ListKeys()).Select(k => k.KeyId));
    }

    [Fact]
    public async Task A_user_may_begin_eight_key_generations_and_the_ninth_is_ResourceExhausted()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("cap-user");
        using var client = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        byte[] request = client.Start().Encode();
        for (int i = 0; i < KeyGenSessions.MaxPending; i++)
        {
            await grain.BeginKeyGen($"cap-{i}", request);
        }
        SignerException e = await Assert.ThrowsAsync<SignerException>(() => grain.BeginKeyGen("cap-8", request));
        Assert.Equal(SignerErrorKind.ResourceExhausted, e.Kind);
        // Another user's grain has its own cap.
        await fixture.GrainFactory.GetGrain<IUserKeysGrain>("cap-user-2").BeginKeyGen("cap-other", request);
    }

    [Fact]
    public async Task A_key_frozen_in_its_status_record_refuses_signing_and_an_unfreeze_that_cannot_be_stored_leaves_it_frozen()
    {
        const string user = "freeze-user";
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>(user);
        await CreateKey(grain, "key-freeze");
        var primary = new DeviceShare("", []);
        Assert.NotEmpty(await grain.BeginSign("key-freeze", primary));

        // Frozen by another activation (its status record in storage), then this activation is collected and comes back.
        fixture.Storage.Edit<KeyStatusState>("status", grain.GetGrainId(), status => status.Keys["key-freeze"] = new KeyStatusEntry
        {
            Status = KeyStatus.Frozen, FrozenAt = DateTimeOffset.UtcNow, FrozenReason = "final signature check failed", FrozenDevice = "primary",
        });
        await fixture.GrainFactory.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        SignerException refused = await Assert.ThrowsAsync<SignerException>(() => grain.BeginSign("key-freeze", primary));
        Assert.Equal(SignerErrorKind.FailedPrecondition, refused.Kind);
        Assert.Contains("is frozen", refused.Message, StringComparison.Ordinal);
        Assert.Equal(KeyStatus.Frozen, (await grain.GetKey("key-freeze"))!.Status);

        fixture.Storage.FailingStates["keys"] = true;
        try
        {
            SignerException notStored = await Assert.ThrowsAsync<SignerException>(() => grain.Unfreeze("key-freeze", null, "operator"));
            Assert.Equal("The unfreeze could not be stored; the key stays frozen.", notStored.Message);
        }
        finally
        {
            fixture.Storage.FailingStates.TryRemove("keys", out _);
        }
        Assert.Equal(KeyStatus.Frozen, (await grain.GetKey("key-freeze"))!.Status);
        Assert.All(await grain.ListDevices("key-freeze"), d => Assert.False(d.MustRefresh));

        KeySummary unfrozen = await grain.Unfreeze("key-freeze", null, "operator");
        Assert.Equal(KeyStatus.Active, unfrozen.Status);
        SignerException mustRefresh = await Assert.ThrowsAsync<SignerException>(() => grain.BeginSign("key-freeze", primary));
        Assert.Contains("must be refreshed", mustRefresh.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signature_takes_one_grain_call_per_round_trip_and_verifies_outside_the_engine()
    {
        IUserKeysGrain grain = fixture.GrainFactory.GetGrain<IUserKeysGrain>("router-user");
        (KeySummary key, ClientKeyShare share) = await CreateKeyWithShare(grain, "key-router");
        using (share)
        {
            var device = new DeviceShare(share.DeviceId, share.ShareId);
            byte[] digest = System.Security.Cryptography.SHA256.HashData("routed"u8);
            var client = new SignClientSession(share, Digest.Parse(digest));

            // BeginSign hands out the commitment the SDK keeps ready; the signature itself is the two calls after it.
            SignCommitment commitment = SignCommitment.Decode(await grain.BeginSign(key.KeyId, device));
            SignNonce nonce = client.HandleCommitment(commitment);
            SignOpening opening = SignOpening.Decode(await grain.SignNonce(key.KeyId, device, nonce.Encode()), key.Curve);
            SignCiphertext ciphertext = client.HandleOpening(opening);
            SignCompletion completion = await grain.SignFinish(key.KeyId, commitment.ServerSessionId, ciphertext.Encode(), wantNextCommitment: true);
            EcdsaSignature signature = client.HandleResult(SignResult.Decode(completion.Result, key.Curve));

            Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(key.Curve, key.PublicKey, digest, signature));
            Assert.NotNull(completion.NextCommitment);
            Assert.Contains(fixture.Audit.Events, e => e.KeyId == key.KeyId && e.Kind == AuditEventKind.Sign);

            // The session is spent: the same ciphertext again is NotFound, and the key stays active.
            SignerException replay = await Assert.ThrowsAsync<SignerException>(
                () => grain.SignFinish(key.KeyId, commitment.ServerSessionId, ciphertext.Encode(), wantNextCommitment: false));
            Assert.Equal(SignerErrorKind.NotFound, replay.Kind);
            Assert.Equal(KeyStatus.Active, (await grain.GetKey(key.KeyId))!.Status);
        }
    }

    /// <summary>Key generation rounds 1-4 through the grain (the client's side in process).</summary>
    private async Task<KeySummary> CreateKey(IUserKeysGrain grain, string keyId)
    {
        (KeySummary key, ClientKeyShare share) = await CreateKeyWithShare(grain, keyId);
        share.Dispose();
        return key;
    }

    /// <summary>Key generation rounds 1-4 through the grain, keeping the client's share for signing.</summary>
    private async Task<(KeySummary Key, ClientKeyShare Share)> CreateKeyWithShare(IUserKeysGrain grain, string keyId)
    {
        using var client = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        byte[] commitment = await grain.BeginKeyGen(keyId, client.Start().Encode());
        KeyGenClientShare share = client.HandleCommitment(KeyGenCommitment.Decode(commitment));
        KeyGenCompletion completion = await grain.CompleteKeyGen(keyId, share.Encode());
        ClientKeyShare clientShare = client.HandleServerShare(KeyGenServerShare.Decode(completion.ServerShare, CurveKind.P256));
        return (completion.Key, clientShare);
    }
}
