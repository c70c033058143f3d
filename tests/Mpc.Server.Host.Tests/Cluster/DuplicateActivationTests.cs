using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Client;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Grains;
using Mpc.Grains.Abstractions;
using Mpc.Grains.Sealing;
using Mpc.Protocol.Keys;
using Mpc.Protocol.Messages;
using Mpc.Protocol.Signing;
using Mpc.Server;
using Mpc.Transport.V1;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Storage;
using KeyStatus = Mpc.Grains.Abstractions.KeyStatus;

namespace Mpc.Server.Host.Tests.Cluster;

/// <summary>
/// Issue 10, "a duplicate activation in a two-silo cluster on Redis": two silos in this process share Redis clustering
/// and Redis grain storage. Silo A holds the user's grain (with a signing session open in its memory); silo B declares A
/// dead in the membership table while A keeps running (a partition, as B sees it), so B's next call makes a second
/// activation of the same grain. B's activation freezes the key (it re-runs a stored final-check marker whose c3 fails
/// the check). A's activation, whose copy of the status record is now stale, must not decrypt again: its marker write
/// fails the Redis ETag check, it re-reads, sees Frozen and refuses, and so does every later probe, until an operator
/// unfreeze and a refresh. Likewise for a change of the key's devices made through B (a revocation, a refresh, an
/// unfreeze's must-refresh): A's stale copy of the devices lets the rounds up to c3 through, and its marker write, which
/// finds the key's generation advanced, refuses before anything is decrypted.
/// </summary>
[Collection("cluster")]
public sealed class DuplicateActivationTests : IAsyncLifetime, IDisposable
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly TempDirectory _root = new("mpc-duplicate-");
    private readonly RedisProcess _redis;
    /// <summary>The silos talk mutual TLS, as a production cluster does: each has its certificate from this CA.</summary>
    private readonly TestClusterCa _ca;
    private readonly ServerFixture _stale;
    private readonly ServerFixture _fresh;
    /// <summary>The device's ring-Pedersen parameters, one set for both silos' clients (safe primes are slow).</summary>
    private readonly RingPedersenSecret _ringPedersen = RingPedersenSecret.Generate(BigNumBackends.Default);
    /// <summary>A's membership table, cut off at the partition so that nothing (its timer, B's gossip) tells A it was declared dead.</summary>
    private readonly MembershipTablePartition _stalePartition = new();
    private readonly RecordingFatalErrorHandler _staleFatal = new();
    private readonly RecordingFatalErrorHandler _freshFatal = new();
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public DuplicateActivationTests(Xunit.Abstractions.ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_root.File("redis"));
        _redis = new RedisProcess(_root.File("redis"));
        _ca = new TestClusterCa(_root.File("tls"));
        string dataDirectory = _root.File("data");
        string clusterId = "duplicate-" + Guid.NewGuid().ToString("N")[..8];
        // A cannot read the membership table after the partition and does not probe B: it stays unaware that B declared
        // it dead, which is what a partitioned or paused silo looks like to its own activations.
        _stale = Silo("stale", dataDirectory, clusterId, _staleFatal, membership =>
        {
            membership.TableRefreshTimeout = TimeSpan.FromMinutes(10);
            membership.ProbeTimeout = TimeSpan.FromMinutes(1);
            membership.IAmAliveTablePublishTimeout = TimeSpan.FromMinutes(10);
        }, _stalePartition.Wrap);
        _fresh = Silo("fresh", dataDirectory, clusterId, _freshFatal, membership => membership.TableRefreshTimeout = TimeSpan.FromSeconds(2));
    }

    public async Task InitializeAsync()
    {
        Log("constructed");
        await _redis.StartAsync();
        // Shared by both silos: made once up front so the two starts do not race to create them.
        using (DevelopmentTokens.Open(_stale.DataDirectory, create: true))
        using (var masterKey = new FileKeyEncryptionKeyProvider(_stale.MasterKeyDirectory))
        {
            Assert.NotEmpty(masterKey.KeyId);
        }
        await Task.WhenAll(_stale.InitializeAsync(), _fresh.InitializeAsync());
        Log("Redis and both silos started");
    }

    public async Task DisposeAsync()
    {
        // Bounded: a silo that was declared dead may take a while to give up on its peer.
        Log($"stopping; A told it was declared dead: {_staleFatal.Called}");
        // The partition heals, so that A can leave the cluster.
        _stalePartition.Cut = false;
        foreach (ServerFixture server in new[] { _fresh, _stale })
        {
            try
            {
                await server.DisposeAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                _output.WriteLine($"stopping a silo: {e.GetType().Name}");
            }
        }
    }

    public void Dispose()
    {
        _redis.Dispose();
        _ringPedersen.Dispose();
        _ca.Dispose();
        _root.Dispose();
    }

    [Fact]
    public async Task A_duplicate_activation_on_a_partitioned_silo_never_decrypts_for_a_key_the_other_activation_froze()
    {
        using var staleDecryptions = new FinalCheckCounter(_stale, "mpc.sign.final_checks");
        using var staleReruns = new FinalCheckCounter(_stale, "mpc.sign.final_check_reruns");
        using var freshDecryptions = new FinalCheckCounter(_fresh, "mpc.sign.final_checks");
        using var freshFailedReruns = new FinalCheckCounter(_fresh, "mpc.sign.final_check_reruns", outcome: "failed");

        SiloAddress staleSilo = _stale.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        string user = await UserActivatedOnAsync(_stale, staleSilo);
        Log("user placed on A");
        using MpcSignerClient staleClient = _stale.Client(user);
        using MpcKey key = await staleClient.CreateKeyAsync(CurveKind.P256);
        await staleClient.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));
        Assert.Equal(staleSilo, await ActivationSiloAsync(_stale, user));
        Log("key created and signed through A");
        // Both silos' grain storage is the one Redis: B's reads what A wrote.
        var storage = _fresh.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Keys);
        await MarkerClearedAsync(storage, user, key.KeyId);

        // A signing session on A, up to c3: its nonce lives only in A's activation.
        using RawSigner staleRaw = _stale.Raw(_stale.Token(user));
        (byte[] sessionId, SignCiphertext honest) = await HonestCiphertextAsync(staleRaw, key);

        await PartitionAsync();
        // B's activation will find a marker a crashed check left, whose c3 fails the check: its re-run freezes the key.
        await PlantFailingMarkerAsync(storage, _fresh.MasterKeyDirectory, user, key);

        long freshDecryptionsBefore = freshDecryptions.Count;
        using MpcSignerClient freshClient = _fresh.Client(user);
        Assert.True((await freshClient.GetKeyAsync(key.KeyId)).Frozen);
        Assert.Equal(1, freshFailedReruns.Count);
        Assert.Equal(freshDecryptionsBefore, freshDecryptions.Count);
        Assert.Equal(_fresh.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress, await ActivationSiloAsync(_fresh, user));
        KeyStatusEntry stored = (await ReadStatusAsync(storage, user)).Keys[key.KeyId];
        Assert.Equal(KeyStatus.Frozen, stored.Status);
        Assert.Contains("re-run", stored.FrozenReason, StringComparison.Ordinal);

        // A's activation is still the one it was (only it knows the session) and still believes the key active. Its
        // c3 carries a valid proof; the marker write meets B's newer record, A re-reads it and refuses: no decryption.
        long staleDecryptionsBefore = staleDecryptions.Count, staleRerunsBefore = staleReruns.Count;
        RpcException finish = await Assert.ThrowsAsync<RpcException>(async () => await staleRaw.Client.SignFinishAsync(new SignFinishRequest
        {
            KeyId = key.KeyId,
            SessionId = ByteString.CopyFrom(sessionId),
            Ciphertext = ByteString.CopyFrom(honest.Encode()),
        }, staleRaw.Headers));
        Assert.Equal(StatusCode.FailedPrecondition, finish.StatusCode);
        Assert.Contains("frozen", finish.Status.Detail, StringComparison.Ordinal);
        Assert.False(_staleFatal.Called, "A learnt it was declared dead before the probe: " + _staleFatal.Context);

        Log("B froze the key, A's activation refused its c3");

        // Every further probe, through either activation, is refused before anything is decrypted.
        for (int probe = 0; probe < 3; probe++)
        {
            foreach (ServerFixture server in new[] { _stale, _fresh })
            {
                await AssertRefusedAsFrozenAsync(server, user, key);
            }
        }
        Assert.Equal(staleDecryptionsBefore, staleDecryptions.Count);
        Assert.Equal(staleRerunsBefore, staleReruns.Count);
        Assert.Equal(freshDecryptionsBefore, freshDecryptions.Count);
        Assert.Equal(1, freshFailedReruns.Count);
        Assert.Equal(KeyStatus.Frozen, (await ReadStatusAsync(storage, user)).Keys[key.KeyId].Status);

        // The freeze is in the key's audit chain. A's refusal ("frozen in storage") reaches it only when A can still
        // reach the key's audit grain across the partition, so it is reported, not required.
        MpcAuditPage audit = await AuditWithAsync(freshClient, key.KeyId, e => e.Event == "freeze" && e.Outcome == "frozen");
        Assert.True(MpcAuditLog.Verify(key.KeyId, audit.Entries).IsValid);
        Log("audit: " + string.Join("; ", audit.Entries.Select(e => $"{e.Event}/{e.Outcome}/{e.Detail}")));

        // Until an operator unfreezes and the device refreshes.
        using (var admin = new MpcSignerClient(_fresh.Address, _fresh.AdminToken()))
        {
            Assert.False((await admin.UnfreezeKeyAsync(user, key.KeyId)).Frozen);
        }
        Assert.Contains("refresh", (await Assert.ThrowsAsync<MpcSignerException>(() => freshClient.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32)))).Message);
        using MpcKey refreshed = await freshClient.RefreshKeyAsync(key);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, await freshClient.SignDigestAsync(refreshed, digest)));
        Assert.Equal(staleDecryptionsBefore, staleDecryptions.Count);
        Log("unfrozen, refreshed and signed through B");
    }

    [Fact]
    public async Task A_device_revoked_through_the_other_activation_signs_nothing_through_the_stale_one()
    {
        (string user, MpcKey lost) = await KeyOnStaleSiloAsync();
        using (lost)
        {
            // The owner's second pair, so that the lost device may be revoked.
            using MpcSignerClient ownerOnStale = _stale.Client(user);
            using ClientKeyShare backup = await ownerOnStale.CreateBackupAsync(lost, "safe");
            await PartitionAsync();

            using MpcSignerClient ownerOnFresh = _fresh.Client(user);
            Assert.True((await ownerOnFresh.RevokeDeviceAsync(lost.KeyId, lost.Share.DeviceId)).Revoked);
            Assert.Equal(_fresh.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress, await ActivationSiloAsync(_fresh, user));
            Log("the lost device revoked through B");

            await AssertStaleActivationDecryptsNothingAsync(user, lost, "revoked");
        }
    }

    [Fact]
    public async Task A_share_replaced_by_a_refresh_through_the_other_activation_signs_nothing_through_the_stale_one()
    {
        (string user, MpcKey old) = await KeyOnStaleSiloAsync();
        using (old)
        {
            await PartitionAsync();
            using MpcSignerClient ownerOnFresh = _fresh.Client(user);
            using MpcKey refreshed = await ownerOnFresh.RefreshKeyAsync(old);
            Log("the device refreshed through B");

            await AssertStaleActivationDecryptsNothingAsync(user, old, "replaced by a refresh");

            // A has read the devices again: the refreshed pair signs through it, nothing is left refusing the honest device.
            using MpcSignerClient ownerOnStale = _stale.Client(user);
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, old.SubjectPublicKeyInfo, digest, await ownerOnStale.SignDigestAsync(refreshed, digest)));
        }
    }

    [Fact]
    public async Task A_pair_an_unfreeze_through_the_other_activation_marked_must_refresh_signs_nothing_through_the_stale_one()
    {
        (string user, MpcKey key) = await KeyOnStaleSiloAsync();
        using (key)
        {
            await PartitionAsync();
            // B freezes the key (a stored marker whose c3 fails the re-run) and an operator unfreezes it through B: every
            // pair must refresh. A never saw the freeze; its copy of the key is active and its pair may sign.
            await PlantFailingMarkerAsync(_fresh.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Keys), _fresh.MasterKeyDirectory, user, key);
            using MpcSignerClient ownerOnFresh = _fresh.Client(user);
            Assert.True((await ownerOnFresh.GetKeyAsync(key.KeyId)).Frozen);
            using (var admin = new MpcSignerClient(_fresh.Address, _fresh.AdminToken()))
            {
                Assert.False((await admin.UnfreezeKeyAsync(user, key.KeyId)).Frozen);
            }
            Log("frozen and unfrozen through B");

            await AssertStaleActivationDecryptsNothingAsync(user, key, "must be refreshed");
        }
    }

    /// <summary>
    /// A signature with <paramref name="share"/> (revoked, replaced or waiting for a refresh, as storage holds the key)
    /// through A: A's stale copy of the devices lets BeginSign and SignNonce through, and SignFinish is refused before
    /// decryption. The next attempt, after A read the devices again, is refused at BeginSign for <paramref name="why"/>.
    /// A decrypts nothing.
    /// </summary>
    private async Task AssertStaleActivationDecryptsNothingAsync(string user, MpcKey share, string why)
    {
        using var staleDecryptions = new FinalCheckCounter(_stale, "mpc.sign.final_checks");
        using RawSigner raw = _stale.Raw(_stale.Token(user));
        (byte[] sessionId, SignCiphertext ciphertext) = await HonestCiphertextAsync(raw, share);
        RpcException finish = await Assert.ThrowsAsync<RpcException>(() => raw.SignFinishAsync(share.KeyId, sessionId, ciphertext));
        Assert.Equal(StatusCode.FailedPrecondition, finish.StatusCode);
        Assert.Contains("nothing was decrypted", finish.Status.Detail, StringComparison.Ordinal);
        Assert.False(_staleFatal.Called, "A learnt it was declared dead before the probe: " + _staleFatal.Context);

        using MpcSignerClient client = _stale.Client(user);
        MpcSignerException again = await Assert.ThrowsAsync<MpcSignerException>(() => client.SignDigestAsync(share, RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(StatusCode.FailedPrecondition, again.Status);
        Assert.Contains(why, again.Message, StringComparison.Ordinal);
        Assert.Equal(0, staleDecryptions.Count);
        Log($"A refused the share ({why}) and decrypted nothing");
    }

    /// <summary>A user whose grain is active on A, with a P-256 key created through A (not yet signed with: no marker stored).</summary>
    private async Task<(string User, MpcKey Key)> KeyOnStaleSiloAsync()
    {
        string user = await UserActivatedOnAsync(_stale, _stale.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress);
        using MpcSignerClient client = _stale.Client(user);
        MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        Log("user placed on A, key created");
        return (user, key);
    }

    /// <summary>
    /// The partition: A can no longer reach the membership table, and B declares A dead in it; A keeps running and is not
    /// told, so B's next call for the user activates the grain a second time.
    /// </summary>
    private async Task PartitionAsync()
    {
        _stalePartition.Cut = true;
        SiloAddress staleSilo = _stale.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var membership = _fresh.Services.GetRequiredService<IClusterMembershipService>();
        Assert.True(await membership.TryKill(staleSilo), "B could not declare A dead");
        await Poll.UntilAsync(TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200), async () =>
        {
            if (membership.CurrentSnapshot.GetSiloStatus(staleSilo) == SiloStatus.Dead)
            {
                return true;
            }
            await membership.Refresh();
            return false;
        }, () => "B did not see A dead within 10 s");
        Log("B sees A dead");
    }

    /// <summary>An honest signature and an abort probe through <paramref name="server"/>, both refused as frozen.</summary>
    private static async Task AssertRefusedAsFrozenAsync(ServerFixture server, string user, MpcKey key)
    {
        using MpcSignerClient client = server.Client(user);
        MpcSignerException honest = await Assert.ThrowsAsync<MpcSignerException>(() => client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(StatusCode.FailedPrecondition, honest.Status);
        Assert.Contains("frozen", honest.Message, StringComparison.Ordinal);
        using RawSigner raw = server.Raw(server.Token(user));
        StatusCode probe;
        try
        {
            probe = await AbortAttack.SendAsync(raw, key);
        }
        catch (RpcException e)
        {
            probe = e.StatusCode;
        }
        Assert.Equal(StatusCode.FailedPrecondition, probe);
    }

    /// <summary>A user whose grain the first call through <paramref name="server"/> activated on that server's silo.</summary>
    private static async Task<string> UserActivatedOnAsync(ServerFixture server, SiloAddress silo)
    {
        // Right after start-up a silo may not yet see the other as active, and then places every grain on the one it
        // sees: wait until membership shows both, and give the directory a moment between attempts.
        IManagementGrain management = server.Grains.GetGrain<IManagementGrain>(0);
        await Poll.UntilAsync(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200), async () => (await management.GetHosts(onlyActive: true)).Count >= 2,
            () => "the two silos did not see each other as active in 60 s");
        for (int attempt = 0; attempt < 64; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(100);
            }
            string user = $"duplicate-{attempt}-{Guid.NewGuid():N}"[..40];
            using MpcSignerClient client = server.Client(user);
            Assert.Empty(await client.ListKeysAsync());
            if (Equals(await ActivationSiloAsync(server, user), silo))
            {
                return user;
            }
        }
        throw new InvalidOperationException("no user grain was placed on the silo in 64 tries");
    }

    private static async Task<SiloAddress?> ActivationSiloAsync(ServerFixture server, string user) =>
        await server.Grains.GetGrain<IManagementGrain>(0).GetActivationAddress(server.Grains.GetGrain<IUserKeysGrain>(user));

    private static async Task<MpcAuditPage> AuditWithAsync(MpcSignerClient client, string keyId, Func<MpcAuditEntry, bool> wanted)
    {
        // Audit events are handed to the audit grain in the background.
        for (int attempt = 0; ; attempt++)
        {
            MpcAuditPage page = await client.GetAuditLogAsync(keyId);
            if (page.Entries.Any(wanted) || attempt == 50)
            {
                Assert.Contains(page.Entries, e => wanted(e));
                return page;
            }
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Stores a final-check marker for the key whose c3 fails the check (β off by one), tagged as the server would have
    /// written it, through the silo's own Redis grain storage: what an activation that crashed mid-check leaves behind.
    /// </summary>
    private static async Task PlantFailingMarkerAsync(IGrainStorage storage, string masterKeyDirectory, string user, MpcKey key)
    {
        var grainId = GrainId.Create(GrainTypes.UserKeys, user);
        var keys = new GrainState<UserKeysState>();
        await storage.ReadStateAsync("keys", grainId, keys);
        StoredDevice device = keys.State!.Keys[key.KeyId].Devices[key.Share.DeviceId];
        PendingFinalCheck marker = FinalCheckMarkers.For(key, passing: false);
        using (var masterKey = new FileKeyEncryptionKeyProvider(masterKeyDirectory))
        {
            byte[] secret = await new ShareSealer(masterKey).OpenAsync(device.SealedShare, new SealContext(user, key.KeyId, device.SealPurpose), CancellationToken.None);
            try
            {
                using ServerKeyShare share = ServerKeyShare.ImportSecret(secret, BigNumBackends.Default);
                marker.Tag = FinalCheck.Tag(share, marker.DeviceId, marker.ToRecord()!);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(secret);
            }
        }
        var status = new GrainState<KeyStatusState>();
        await storage.ReadStateAsync("status", grainId, status);
        status.State ??= new KeyStatusState();
        if (!status.State.Keys.TryGetValue(key.KeyId, out KeyStatusEntry? entry))
        {
            entry = new KeyStatusEntry();
            status.State.Keys[key.KeyId] = entry;
        }
        Assert.Null(entry.PendingCheck);
        entry.PendingCheck = marker;
        await storage.WriteStateAsync("status", grainId, status);
    }

    /// <summary>
    /// Waits for A's idle timer to clear the signature's final-check marker in storage. The timer's write ends before A's
    /// next call for the grain runs (timer and calls do not interleave), so from here on A's copy of the status record
    /// is storage's.
    /// </summary>
    private static Task MarkerClearedAsync(IGrainStorage storage, string user, string keyId) =>
        Poll.UntilAsync(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50),
            async () => (await ReadStatusAsync(storage, user)).Keys.GetValueOrDefault(keyId)?.PendingCheck is null,
            () => "A's idle timer did not clear the signature's marker in 30 s");

    private static async Task<KeyStatusState> ReadStatusAsync(IGrainStorage storage, string user)
    {
        var status = new GrainState<KeyStatusState>();
        await storage.ReadStateAsync("status", GrainId.Create(GrainTypes.UserKeys, user), status);
        return status.State ?? throw new InvalidOperationException("no status record stored for " + user);
    }

    /// <summary>Honest rounds up to c3, not sent: the session id and the ciphertext with its proof.</summary>
    private static async Task<(byte[] SessionId, SignCiphertext Ciphertext)> HonestCiphertextAsync(RawSigner raw, MpcKey key)
    {
        ByteString shareId = ByteString.CopyFrom(key.Share.ShareId);
        SignCommitment commitment = SignCommitment.Decode((await raw.Client.BeginSignAsync(
            new BeginSignRequest { KeyId = key.KeyId, DeviceId = key.Share.DeviceId, ShareId = shareId }, raw.Headers)).Commitment.Span);
        var session = new SignClientSession(key.Share, Digest.Parse(RandomNumberGenerator.GetBytes(32)));
        SignNonceResponse opened = await raw.Client.SignNonceAsync(new SignNonceRequest
        {
            KeyId = key.KeyId,
            Nonce = ByteString.CopyFrom(session.HandleCommitment(commitment).Encode()),
            DeviceId = key.Share.DeviceId,
            ShareId = shareId,
        }, raw.Headers);
        return (commitment.ServerSessionId, session.HandleOpening(SignOpening.Decode(opened.Opening.Span, key.Curve)));
    }

    private ServerFixture Silo(
        string name, string dataDirectory, string clusterId, RecordingFatalErrorHandler fatal, Action<ClusterMembershipOptions> membership,
        Action<ISiloBuilder>? configure = null) =>
        new(dataDirectory, _ringPedersen)
        {
            ConfigureOptions = options =>
            {
                options.Cluster.Mode = Mpc.Server.ClusterOptions.RedisMode;
                options.Cluster.RedisConnectionString = _redis.ConnectionString;
                options.Cluster.ClusterId = clusterId;
                options.Cluster.AdvertisedIPAddress = "127.0.0.1";
                options.Cluster.SiloPort = ClusterPorts.Free();
                _ca.Issue(name).ApplyTo(options.Cluster);
                options.Quiet = true;
            },
            ConfigureSilo = silo =>
            {
                silo.Configure(membership);
                // Key generation on a loaded two-core machine can outlast the cluster's 10 s call timeout.
                silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(60));
                // Orleans' default ends the process when a silo learns it was declared dead; here that would end
                // the test run, so the silo records it instead (and the test checks A had not learnt it in time).
                silo.Services.AddSingleton<IFatalErrorHandler>(fatal);
                configure?.Invoke(silo);
            },
        };

    /// <summary>Progress with the time since the test class was made, so a slow run shows where the time went.</summary>
    private void Log(string what) => _output.WriteLine($"{_clock.Elapsed.TotalSeconds:0.0} s: {what}");

    private sealed class RecordingFatalErrorHandler : IFatalErrorHandler
    {
        public bool Called { get; private set; }

        public string? Context { get; private set; }

        public bool IsUnexpected(Exception exception) => true;

        public void OnFatalException(object? sender = null, string? context = null, Exception? exception = null)
        {
            Context = context;
            Called = true;
        }
    }
}
