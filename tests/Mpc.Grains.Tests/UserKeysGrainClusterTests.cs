using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Audit;
using Mpc.Grains.Sealing;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Messages;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace Mpc.Grains.Tests;

/// <summary>One silo of an in-process Orleans test cluster with the user grain, in-memory storage that fails on demand, and a recording audit trail.</summary>
public sealed class GrainClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public RingPedersenSecret RingPedersen { get; } = RingPedersenSecret.Generate(BigNumBackends.Default);

    internal FlakyGrainStorage Storage => Silo.GetRequiredService<FlakyGrainStorage>();

    internal RecordingAudit Audit => Silo.GetRequiredService<RecordingAudit>();

    private IServiceProvider Silo => ((InProcessSiloHandle)Cluster.Primary!).SiloHost!.Services;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        RingPedersen.Dispose();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
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
}

/// <summary>The user grain through its interface: the router, its key record's roll-back, its session cap, and a freeze.</summary>
public sealed class UserKeysGrainClusterTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    [Fact]
    public async Task A_key_whose_store_fails_is_not_kept_and_a_second_key_generation_stores_it()
    {
        IUserKeysGrain grain = fixture.Cluster.GrainFactory.GetGrain<IUserKeysGrain>("rollback-user");
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
        IUserKeysGrain grain = fixture.Cluster.GrainFactory.GetGrain<IUserKeysGrain>("cap-user");
        using var client = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        byte[] request = client.Start().Encode();
        for (int i = 0; i < KeyGenSessions.MaxPending; i++)
        {
            await grain.BeginKeyGen($"cap-{i}", request);
        }
        SignerException e = await Assert.ThrowsAsync<SignerException>(() => grain.BeginKeyGen("cap-8", request));
        Assert.Equal(SignerErrorKind.ResourceExhausted, e.Kind);
        // Another user's grain has its own cap.
        await fixture.Cluster.GrainFactory.GetGrain<IUserKeysGrain>("cap-user-2").BeginKeyGen("cap-other", request);
    }

    [Fact]
    public async Task A_key_frozen_in_its_status_record_refuses_signing_and_an_unfreeze_that_cannot_be_stored_leaves_it_frozen()
    {
        const string user = "freeze-user";
        IUserKeysGrain grain = fixture.Cluster.GrainFactory.GetGrain<IUserKeysGrain>(user);
        await CreateKey(grain, "key-freeze");
        var primary = new DeviceShare("", []);
        Assert.NotEmpty(await grain.BeginSign("key-freeze", primary));

        // Frozen by another activation (its status record in storage), then this activation is collected and comes back.
        fixture.Storage.Edit<KeyStatusState>("status", grain.GetGrainId(), status => status.Keys["key-freeze"] = new KeyStatusEntry
        {
            Status = KeyStatus.Frozen, FrozenAt = DateTimeOffset.UtcNow, FrozenReason = "final signature check failed", FrozenDevice = "primary",
        });
        await fixture.Cluster.GrainFactory.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

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

    /// <summary>Key generation rounds 1-4 through the grain (the client's side in process).</summary>
    private async Task<KeySummary> CreateKey(IUserKeysGrain grain, string keyId)
    {
        using var client = new KeyGenClientSession(CurveKind.P256, fixture.RingPedersen, BigNumBackends.Default);
        byte[] commitment = await grain.BeginKeyGen(keyId, client.Start().Encode());
        KeyGenClientShare share = client.HandleCommitment(KeyGenCommitment.Decode(commitment));
        KeyGenCompletion completion = await grain.CompleteKeyGen(keyId, share.Encode());
        Assert.NotEmpty(completion.ServerShare);
        return completion.Key;
    }
}
