using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Cli.Tests.KeyStore;

/// <summary>
/// A refresh, an enrolment, a restore and an import stopped at every point between a durable write and a server call (before
/// each request is sent, after each reply arrives, after the pending file is written, after it replaces the key
/// file). The stop is an exception no clean-up path handles (the SDK deletes a pending file only on a server
/// refusal), so the files are left as a killed process leaves them. Then a fresh client runs the SDK's recovery
/// (<see cref="PendingKeyFile.RecoverAsync"/>), re-runs the command if the server never took the new share, and
/// must end with a key file that signs.
/// </summary>
[Collection("server")]
public sealed class CrashRecoveryTests(ServerFixture server) : IDisposable
{
    // Each test its own user: every stopping point makes a key, and the server caps the keys of one user.
    private string User { get; set; } = NewUser();
    private readonly TempDirectory _root = new("mpc-crash-");
    private static readonly KeyFileProtection Protection = KeyFileProtection.Unprotected();

    [Fact]
    public async Task A_refresh_stopped_at_any_point_recovers_to_a_share_that_signs()
    {
        string keyFile = "";
        IReadOnlyList<string> points = await CrashEverywhere(async run =>
        {
            keyFile = Path.Combine(_root.Path, $"refresh-{run}.key");
            using MpcSignerClient setup = server.Client(User);
            using MpcKey created = await setup.CreateKeyAsync(CurveKind.P256);
            ClientKeyFile.Save(keyFile, created.Share, User, Protection);
            return keyFile;
        }, async (client, step) =>
        {
            using MpcKey current = client.OpenKey(ClientKeyFile.Load(keyFile, Protection));
            using KeyFileLock held = KeyFileLock.Acquire(keyFile);
            return await PendingKeyFile.UpdateLockedAsync(client, held, User, Protection, save => client.RefreshKeyAsync(current, save), notice: null, step, CancellationToken.None);
        }, rerunIfMissing: false);
        Assert.Equal(["send BeginRefresh", "reply BeginRefresh", "send ContinueRefresh", "reply ContinueRefresh", PendingKeyFile.PendingWritten,
            "send CompleteRefresh", "reply CompleteRefresh", PendingKeyFile.FinalReplaced], points);
    }

    [Fact]
    public async Task An_enrolment_stopped_at_any_point_recovers_to_a_share_that_signs()
    {
        var sources = new List<(string Owner, MpcKey Key)>();
        string keyFile = "";
        IReadOnlyList<string> points = await CrashEverywhere(async run =>
        {
            // A user per stopping point: each makes two or three new Paillier keys, past one user's rate limit in all.
            User = NewUser();
            using MpcSignerClient setup = server.Client(User);
            sources.Add((User, await setup.CreateKeyAsync(CurveKind.Secp256k1)));
            return keyFile = Path.Combine(_root.Path, $"enrolled-{run}.key");
        }, async (client, step) =>
        {
            using ClientKeyShare handedOver = ClientKeyShare.ImportSecret(sources[^1].Key.Share.ExportSecret(), BigNumBackends.Default);
            using KeyFileLock held = KeyFileLock.Acquire(keyFile);
            return await PendingKeyFile.UpdateLockedAsync(client, held, User, Protection, save => client.EnrolDeviceAsync(handedOver, "laptop", save), notice: null, step, CancellationToken.None);
        });
        Assert.Contains("reply CompleteRefresh", points);
        // The source device's own pair is untouched by an enrolment, interrupted or not.
        foreach ((string owner, MpcKey source) in sources)
        {
            using MpcSignerClient ownerClient = server.Client(owner);
            Assert.True(await Signs(ownerClient, source));
            source.Dispose();
        }
    }

    [Fact]
    public async Task A_restore_stopped_at_any_point_recovers_to_a_share_that_signs()
    {
        string keyFile = "";
        ClientKeyShare? backup = null;
        IReadOnlyList<string> points = await CrashEverywhere(async run =>
        {
            // A user per stopping point: each makes three or four new Paillier keys, past one user's rate limit in all.
            User = NewUser();
            using MpcSignerClient setup = server.Client(User);
            using MpcKey source = await setup.CreateKeyAsync(CurveKind.P256);
            backup?.Dispose();
            backup = await setup.CreateBackupAsync(source, $"backup {run}");
            return keyFile = Path.Combine(_root.Path, $"restored-{run}.key");
        }, async (client, step) =>
        {
            using ClientKeyShare copy = ClientKeyShare.ImportSecret(backup!.ExportSecret(), BigNumBackends.Default);
            using KeyFileLock held = KeyFileLock.Acquire(keyFile);
            return await PendingKeyFile.UpdateLockedAsync(client, held, User, Protection, save => client.RestoreBackupAsync(copy, "new phone", save), notice: null, step, CancellationToken.None);
        });
        backup?.Dispose();
        Assert.Contains(PendingKeyFile.FinalReplaced, points);
    }

    [Fact]
    public async Task An_import_stopped_at_any_point_recovers_to_a_share_that_signs()
    {
        // The server stores an imported key only when the import completes: until then it does not know the pending
        // share's key at all, and the recovery must take that as "not held" rather than fail every rerun.
        string keyFile = "";
        byte[] privateKey = [];
        IReadOnlyList<string> points = await CrashEverywhere(run =>
        {
            // An abandoned import stays in progress on the server until it expires, and a user may have only a few.
            User = NewUser();
            using var whole = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            privateKey = whole.ExportParameters(includePrivateParameters: true).D!;
            return Task.FromResult(keyFile = Path.Combine(_root.Path, $"imported-{run}.key"));
        }, async (client, step) =>
        {
            using KeyFileLock held = KeyFileLock.Acquire(keyFile);
            return await PendingKeyFile.UpdateLockedAsync(client, held, User, Protection,
                save => client.ImportKeyAsync(CurveKind.P256, privateKey, savePending: save), notice: null, step, CancellationToken.None);
        });
        Assert.Equal(["send BeginImport", "reply BeginImport", "send ContinueRefresh", "reply ContinueRefresh", PendingKeyFile.PendingWritten,
            "send CompleteRefresh", "reply CompleteRefresh", PendingKeyFile.FinalReplaced], points);
    }

    [Fact]
    public async Task Pending_files_the_server_never_took_are_each_set_aside_under_their_own_name()
    {
        // Two interrupted refreshes of one key file, settled one after the other: the second set-aside file must not
        // replace the first (a confirmation still in flight could make either one the server's).
        using MpcSignerClient client = server.Client(User);
        string keyFile = Path.Combine(_root.Path, "set-aside.key");
        using MpcKey first = await client.CreateKeyAsync(CurveKind.P256);
        using MpcKey second = await client.RefreshKeyAsync(first);
        using MpcKey current = await client.RefreshKeyAsync(second);
        ClientKeyFile.Save(keyFile, current.Share, User, Protection);
        var setAside = new List<(string Path, byte[] Contents)>();
        foreach (MpcKey stale in new[] { first, second })
        {
            string pending = PendingKeyFile.PendingPathOf(keyFile);
            ClientKeyFile.Save(pending, stale.Share, User, Protection);
            byte[] contents = File.ReadAllBytes(pending);
            Assert.Null(await PendingKeyFile.RecoverAsync(client, keyFile, Protection));
            Assert.False(File.Exists(pending));
            string aside = PendingKeyFile.UnconfirmedPathOf(keyFile, stale.Share);
            setAside.Add((aside, contents));
        }
        Assert.NotEqual(setAside[0].Path, setAside[1].Path);
        foreach ((string path, byte[] contents) in setAside)
        {
            Assert.Equal(contents, File.ReadAllBytes(path));
        }
        Assert.True(await SignsWithFile(keyFile));
    }

    [Fact]
    public async Task A_settled_share_whose_key_file_appeared_meanwhile_stays_pending_and_the_error_says_where_it_is()
    {
        // An interrupted run that was to create the key file (an import, a restore, an enrolment): the server took the
        // pending share, and no key file exists yet. Another program writes one while the server is asked.
        string keyFile = Path.Combine(_root.Path, "appeared.key");
        string pending = PendingKeyFile.PendingPathOf(keyFile);
        using MpcSignerClient setup = server.Client(User);
        using MpcKey created = await setup.CreateKeyAsync(CurveKind.P256);
        using MpcKey refreshed = await setup.RefreshKeyAsync(created, (share, _) =>
        {
            ClientKeyFile.Save(pending, share, User, Protection);
            return ValueTask.CompletedTask;
        });
        byte[] pendingBefore = File.ReadAllBytes(pending);
        using var client = new MpcSignerClient(server.Address, server.Token(User),
            new MpcSignerClientOptions { HttpHandler = new KeyFileWrittenAtListDevices(keyFile) { InnerHandler = new HttpClientHandler() } });

        IOException refused = await Assert.ThrowsAsync<IOException>(() => PendingKeyFile.RecoverAsync(client, keyFile, Protection));

        Assert.Equal($"The server holds the share in {pending}, but {keyFile} could not be written ({keyFile} appeared meanwhile and is left as it is): rename it to a free name.",
            refused.Message);
        Assert.Equal(KeyFileWrittenAtListDevices.Contents, File.ReadAllText(keyFile));
        Assert.Equal(pendingBefore, File.ReadAllBytes(pending));
        using ClientKeyShare kept = ClientKeyFile.Load(pending, Protection);
        Assert.Equal(refreshed.Share.ShareId, kept.ShareId);
    }

    /// <summary>Writes <paramref name="keyFile"/> (as a program that takes no lock would) when ListDevices goes out.</summary>
    private sealed class KeyFileWrittenAtListDevices(string keyFile) : DelegatingHandler
    {
        public const string Contents = "a key file written by another program";

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/ListDevices", StringComparison.Ordinal))
            {
                File.WriteAllText(keyFile, Contents);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>
    /// Runs <paramref name="operation"/> once per stopping point (1, 2, ... until a run passes every point), each on
    /// a fresh key made by <paramref name="prepare"/> (an abandoned refresh stays in progress on the server until it
    /// expires, and a key allows only a few); after each stop, recovers, re-runs when the server never took the new
    /// share, and signs with the key file. Returns the points of the run that was not stopped.
    /// </summary>
    private async Task<IReadOnlyList<string>> CrashEverywhere(Func<int, Task<string>> prepare, Func<MpcSignerClient, Action<string>, Task<MpcKey>> operation,
        bool rerunIfMissing = true)
    {
        for (int stopAt = 1; ; stopAt++)
        {
            string keyFile = await prepare(stopAt);
            var plan = new StopPlan(stopAt);
            var options = new MpcSignerClientOptions
            {
                DeviceProfileStore = server.DeviceProfiles,
                HttpHandler = new StoppingHandler(plan) { InnerHandler = new HttpClientHandler() },
            };
            using (var crashing = new MpcSignerClient(server.Address, server.Token(User), options))
            {
                try
                {
                    (await operation(crashing, plan.Event)).Dispose();
                }
                catch (Exception e) when (plan.Stopped && IsStop(e))
                {
                    // The process "died" here: whatever was written stays as it is.
                }
            }
            if (!plan.Stopped)
            {
                Assert.True(File.Exists(keyFile));
                Assert.True(await SignsWithFile(keyFile));
                return plan.Seen;
            }

            using MpcSignerClient restarted = server.Client(User);
            using (MpcKey? recovered = await PendingKeyFile.RecoverAsync(restarted, keyFile, Protection, notice: null, CancellationToken.None))
            {
                Assert.False(File.Exists(keyFile + ".pending"), $"stopped at {plan.StoppedAt}: the pending file was not settled");
                if (recovered is not null)
                {
                    Assert.True(await Signs(restarted, recovered), $"stopped at {plan.StoppedAt}: the recovered share does not sign");
                }
            }
            if (!File.Exists(keyFile))
            {
                Assert.True(rerunIfMissing, $"stopped at {plan.StoppedAt}: the key file is gone");
                (await operation(restarted, _ => { })).Dispose();
            }
            Assert.True(await SignsWithFile(keyFile), $"stopped at {plan.StoppedAt} ({stopAt}): the key file does not sign after recovery");
        }
    }

    private static string NewUser() => "crash-recovery-" + Guid.NewGuid().ToString("N")[..12];

    private async Task<bool> SignsWithFile(string keyFile)
    {
        using MpcSignerClient client = server.Client(User);
        using MpcKey key = client.OpenKey(ClientKeyFile.Load(keyFile, Protection));
        return await Signs(client, key);
    }

    private static async Task<bool> Signs(MpcSignerClient client, MpcKey key)
    {
        // The SDK verifies the signature against the public key before returning it.
        MpcSignature signature = await client.SignDigestAsync(key, SHA256.HashData(RandomNumberGenerator.GetBytes(16)));
        return signature is not null;
    }

    private static bool IsStop(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is SimulatedStop)
            {
                return true;
            }
        }
        // A stop inside a gRPC call surfaces as the call's failure (the handler's exception is not always kept as inner).
        return e is MpcSignerException or MpcRefreshOutcomeUnknownException;
    }

    public void Dispose()
    {
        _root.Dispose();
    }

    private sealed class SimulatedStop(string point) : Exception($"simulated crash at {point}");

    /// <summary>Counts the points a run passes and throws at the chosen one.</summary>
    private sealed class StopPlan(int stopAt)
    {
        private readonly List<string> _seen = [];

        public IReadOnlyList<string> Seen => _seen;

        public bool Stopped => StoppedAt is not null;

        public string? StoppedAt { get; private set; }

        public void Event(string point)
        {
            lock (_seen)
            {
                _seen.Add(point);
                if (_seen.Count != stopAt)
                {
                    return;
                }
                StoppedAt = point;
            }
            throw new SimulatedStop(point);
        }
    }

    /// <summary>A point before every request and after every reply of the refresh (and import) calls.</summary>
    private sealed class StoppingHandler(StopPlan plan) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string method = request.RequestUri!.AbsolutePath.Split('/')[^1];
            bool counted = method is "BeginRefresh" or "BeginImport" or "ContinueRefresh" or "CompleteRefresh";
            if (counted)
            {
                plan.Event("send " + method);
            }
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            if (counted)
            {
                // gRPC replies in the body: read it whole so the server has finished before the "crash".
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                plan.Event("reply " + method);
            }
            return response;
        }
    }
}
