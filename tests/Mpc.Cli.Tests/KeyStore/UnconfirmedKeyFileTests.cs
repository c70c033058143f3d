using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Protocol.Keys;

namespace Mpc.Cli.Tests.KeyStore;

/// <summary>
/// `mpc keygen`'s OUT.unconfirmed: the checked share sealed there before the server is asked to store the key, and the
/// command run again after a key generation that ended before OUT was written (a kill, or the SDK's
/// <see cref="MpcKeyGenOutcomeUnknownException"/>): the file is settled before anything else, through the real CLI
/// against a real server.
/// </summary>
[Collection("server")]
public sealed class UnconfirmedKeyFileTests(ServerFixture server) : IDisposable
{
    private const string User = "unconfirmed-key-file";
    private const string Passphrase = "unconfirmed key file passphrase";
    private readonly TempDirectory _root = new("mpc-unconfirmed-");

    public void Dispose() => _root.Dispose();

    private string P(string name) => Path.Combine(_root.Path, name);

    private ProcessResult KeyGen(string keyFile, string user = User, params string[] more) => ProcessRunner.Mpc(new Dictionary<string, string>
    {
        ["MPC_PASSPHRASE"] = Passphrase,
        ["MPC_TOKEN"] = server.Token(user),
    }, ["keygen", "--server", server.Address.ToString(), "--out", P(keyFile), .. more]);

    /// <summary>One error line naming <paramref name="expected"/>; the unconfirmed file is kept and no key file written.</summary>
    private void RefusedAndKept(ProcessResult result, string expected, string keyFile)
    {
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, Assert.Single(result.ErrorLine.Split('\n')));
        Assert.True(File.Exists(P(keyFile + ".unconfirmed")));
        Assert.False(File.Exists(P(keyFile)));
    }

    /// <summary>An unconfirmed file as `mpc keygen` leaves it, holding a share of a key <paramref name="owner"/> created.</summary>
    private async Task<string> UnconfirmedFileOf(string owner, string keyFile)
    {
        using MpcSignerClient client = server.Client(owner);
        using MpcKey created = await client.CreateKeyAsync(CurveKind.P256);
        ClientKeyFile.Save(P(keyFile + ".unconfirmed"), created.Share, User, KeyFileProtection.Passphrase(Passphrase));
        return created.KeyId;
    }

    [Fact]
    public async Task A_key_the_server_holds_is_settled_into_the_key_file_and_no_new_key_is_made()
    {
        string keyId = await UnconfirmedFileOf(User, "held.key");
        int before = await KeyCount();

        ProcessResult result = KeyGen("held.key");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains($"Key {keyId} from an earlier run is stored on the server: settled.", result.Stderr);
        Assert.Contains($"Key id: {keyId}", result.Stdout);
        Assert.False(File.Exists(P("held.key.unconfirmed")));
        Assert.Equal(keyId, ClientKeyFile.ReadPublicInfo(P("held.key")).KeyId);
        Assert.Equal(before, await KeyCount());
        using MpcSignerClient client = server.Client(User);
        await AssertSigns(client, "held.key");
    }

    /// <summary>The key file opens with the passphrase, and a signature with it verifies under its public key.</summary>
    private async Task AssertSigns(MpcSignerClient client, string keyFile)
    {
        using MpcKey key = client.OpenKey(ClientKeyFile.Load(P(keyFile), KeyFileProtection.Passphrase(Passphrase)));
        byte[] data = RandomNumberGenerator.GetBytes(64);
        MpcSignature signature = await client.SignDataAsync(key, data);
        using ECDsa verifier = ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _);
        Assert.True(verifier.VerifyData(data, signature.ToDer(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public async Task A_key_the_server_cannot_store_is_removed_and_a_new_key_is_made()
    {
        // A share whose confirmations were all lost, so its key was never stored; another user's, so this user's server
        // can never store it either (NotFound, as after its key generation expired unconfirmed).
        using ClientKeyShare share = await UnstoredShareOf(User + "-other");
        ClientKeyFile.Save(P("lost.key.unconfirmed"), share, User, KeyFileProtection.Passphrase(Passphrase));
        int before = await KeyCount();

        ProcessResult result = KeyGen("lost.key");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains($"The server does not hold key {share.KeyId} from an earlier run and can no longer store it", result.Stderr);
        Assert.False(File.Exists(P("lost.key.unconfirmed")));
        string created = ClientKeyFile.ReadPublicInfo(P("lost.key")).KeyId;
        Assert.NotEqual(share.KeyId, created);
        Assert.Contains($"Key id: {created}", result.Stdout);
        Assert.Equal(before + 1, await KeyCount());
    }

    [Fact]
    public async Task A_file_whose_key_id_the_server_holds_with_another_public_key_is_set_aside_byte_for_byte_and_the_next_run_makes_a_new_key()
    {
        string keyId = await UnconfirmedFileOf(User, "other.key");
        string unconfirmedPath = P("other.key.unconfirmed");
        byte[] sealedShare = File.ReadAllBytes(unconfirmedPath);
        string aside = P($"other.key.pending.unconfirmed.{ClientKeyFile.ReadPublicInfo(unconfirmedPath).ShareId![..16]}");
        var unconfirmed = new UnconfirmedKeyFile(P("other.key"), User, KeyFileProtection.Passphrase(Passphrase));
        using var client = new MpcSignerClient(server.Address, server.Token(User), new MpcSignerClientOptions { HttpHandler = new AnotherPublicKey() });

        CliException refused = await Assert.ThrowsAsync<CliException>(() => unconfirmed.SettleAsync(client, CurveKind.P256, CancellationToken.None));

        (CliExit exit, string line) = CliErrors.Describe(refused, server: null);
        Assert.Equal(CliExit.Failed, exit);
        Assert.Equal(line, refused.Message); // already one line
        Assert.Contains($"another public key for key {keyId}", line);
        Assert.Contains($"{unconfirmedPath} is moved to {aside}", line);
        Assert.False(File.Exists(unconfirmedPath));
        Assert.Equal(sealedShare, File.ReadAllBytes(aside));

        // The same file set aside again (copied back by hand, say) never replaces the first.
        File.WriteAllBytes(unconfirmedPath, sealedShare);
        CliException again = await Assert.ThrowsAsync<CliException>(() => unconfirmed.SettleAsync(client, CurveKind.P256, CancellationToken.None));
        Assert.Contains($"is moved to {aside}.2", again.Message);
        Assert.Equal(sealedShare, File.ReadAllBytes(aside));
        Assert.Equal(sealedShare, File.ReadAllBytes(aside + ".2"));

        // The next run, through the real CLI, is not blocked: it makes a new key and leaves the set-aside files alone.
        int before = await KeyCount();
        ProcessResult next = KeyGen("other.key");

        Assert.True(next.ExitCode == 0, next.Stderr);
        string created = ClientKeyFile.ReadPublicInfo(P("other.key")).KeyId;
        Assert.NotEqual(keyId, created);
        Assert.Equal(before + 1, await KeyCount());
        Assert.Equal(sealedShare, File.ReadAllBytes(aside));
        Assert.Equal(sealedShare, File.ReadAllBytes(aside + ".2"));
    }

    /// <summary>A server that answers every ConfirmKeyGen with another public key than the key's.</summary>
    private sealed class AnotherPublicKey() : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            if (request.RequestUri!.AbsolutePath.EndsWith("/ConfirmKeyGen", StringComparison.Ordinal))
            {
                using ECDsa other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                byte[] otherPublicKey = other.ExportSubjectPublicKeyInfo();
                response.Content = await GrpcFrames.Edited(response.Content, Mpc.Transport.V1.KeyInfo.Parser,
                    key => key.PublicKey = Google.Protobuf.ByteString.CopyFrom(otherPublicKey), cancellationToken);
            }
            return response;
        }
    }

    [Fact]
    public async Task A_key_of_another_user_is_refused_by_the_server_and_the_file_is_kept()
    {
        await UnconfirmedFileOf(User + "-owner", "foreign.key");

        RefusedAndKept(KeyGen("foreign.key"), "belongs to another user", "foreign.key");
    }

    [Fact]
    public async Task An_unanswered_confirmation_seals_the_checked_share_into_the_unconfirmed_file_and_the_next_run_stores_the_key()
    {
        const string owner = User + "-unanswered";
        using MpcSignerClient client = await ClientWhoseConfirmationsAreLost(owner);
        var unconfirmed = new UnconfirmedKeyFile(P("unanswered.key"), owner, KeyFileProtection.Passphrase(Passphrase));

        CliException outcome = await Assert.ThrowsAsync<CliException>(() => unconfirmed.CreateAsync(client, CurveKind.P256, CancellationToken.None));

        Assert.Equal(CliExit.OutcomeUnknown, outcome.Exit);
        Assert.Contains($"its share is kept in {unconfirmed.Path}: run the same command again to settle it", outcome.Message);
        KeyFileInfo kept = ClientKeyFile.ReadPublicInfo(unconfirmed.Path);
        Assert.Equal(owner, kept.UserId);
        Assert.True(kept.IsProtected);
        // Nothing is stored yet (every confirmation was lost); the same command, run again, stores it.
        using MpcSignerClient ownerClient = server.Client(owner);
        Assert.DoesNotContain(await ownerClient.ListKeysAsync(), k => k.KeyId == kept.KeyId);
        ProcessResult again = KeyGen("unanswered.key", owner);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains($"Key {kept.KeyId} from an earlier run is stored on the server: settled.", again.Stderr);
        Assert.Contains(await ownerClient.ListKeysAsync(), k => k.KeyId == kept.KeyId);
        Assert.False(File.Exists(unconfirmed.Path));
    }

    [Fact]
    public async Task The_share_is_on_disk_before_the_server_is_asked_to_store_the_key_and_that_file_becomes_the_key_file()
    {
        const string owner = User + "-sealed-first";
        var unconfirmed = new UnconfirmedKeyFile(P("first.key"), owner, KeyFileProtection.Passphrase(Passphrase));
        var wire = new FileAtConfirmation(unconfirmed.Path);
        using var client = new MpcSignerClient(server.Address, server.Token(owner), new MpcSignerClientOptions { HttpHandler = wire });

        using MpcKey key = await unconfirmed.CreateAsync(client, CurveKind.P256, CancellationToken.None);

        // A kill from here on leaves this file, which the next run settles (A_key_the_server_holds_is_settled...).
        byte[] sealedBeforeConfirmation = Assert.Single(wire.Seen);
        Assert.Equal(key.KeyId, ClientKeyFile.ReadPublicInfo(unconfirmed.Path).KeyId);
        unconfirmed.Keep(key);
        Assert.False(File.Exists(unconfirmed.Path));
        Assert.Equal(sealedBeforeConfirmation, File.ReadAllBytes(P("first.key")));
        Assert.Equal(key.PublicKeyPem, ClientKeyFile.ReadPublicInfo(P("first.key")).PublicKeyPem);
        await AssertSigns(client, "first.key");
    }

    [Fact]
    public async Task A_key_file_that_appeared_while_the_key_was_made_is_not_replaced_and_the_share_stays_unconfirmed()
    {
        const string owner = User + "-raced";
        var unconfirmed = new UnconfirmedKeyFile(P("raced.key"), owner, KeyFileProtection.Passphrase(Passphrase));
        using MpcSignerClient client = server.Client(owner);
        using MpcKey key = await unconfirmed.CreateAsync(client, CurveKind.P256, CancellationToken.None);
        File.WriteAllText(P("raced.key"), "another run's key file");

        CliException refused = Assert.Throws<CliException>(() => unconfirmed.Keep(key));

        Assert.Equal(CliExit.LocalInput, refused.Exit);
        Assert.Contains($"the new key's share is in {unconfirmed.Path}", refused.Message);
        Assert.Equal("another run's key file", File.ReadAllText(P("raced.key")));
        Assert.Equal(key.KeyId, ClientKeyFile.ReadPublicInfo(unconfirmed.Path).KeyId);
    }

    [Fact]
    public async Task A_confirmation_refused_after_the_share_was_written_removes_the_file_with_the_error()
    {
        const string owner = User + "-refused";
        var unconfirmed = new UnconfirmedKeyFile(P("refused.key"), owner, KeyFileProtection.Passphrase(Passphrase));
        // ConfirmKeyGen goes out with another user's token: NotFound, which proves the key was not stored.
        var wire = new ConfirmAsAnotherUser(server.Token(owner + "-stranger"));
        using var client = new MpcSignerClient(server.Address, server.Token(owner), new MpcSignerClientOptions { HttpHandler = wire });

        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => unconfirmed.CreateAsync(client, CurveKind.P256, CancellationToken.None));

        Assert.Equal(MpcErrorReason.NotFound, refused.Reason);
        Assert.True(wire.Confirmations > 0);
        Assert.False(File.Exists(unconfirmed.Path));
        Assert.False(File.Exists(P("refused.key")));
        using MpcSignerClient ownerClient = server.Client(owner);
        Assert.Empty(await ownerClient.ListKeysAsync());
    }

    /// <summary>Sends every ConfirmKeyGen with <paramref name="token"/> in place of the caller's.</summary>
    private sealed class ConfirmAsAnotherUser(string token) : DelegatingHandler(new SocketsHttpHandler())
    {
        public int Confirmations { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/ConfirmKeyGen", StringComparison.Ordinal))
            {
                Confirmations++;
                request.Headers.Remove("authorization");
                request.Headers.TryAddWithoutValidation("authorization", "Bearer " + token);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Reads <paramref name="path"/> as each ConfirmKeyGen leaves (the file must exist by then).</summary>
    private sealed class FileAtConfirmation(string path) : DelegatingHandler(new SocketsHttpHandler())
    {
        public List<byte[]> Seen { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/ConfirmKeyGen", StringComparison.Ordinal))
            {
                Seen.Add(File.ReadAllBytes(path));
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>
    /// The SDK's <see cref="MpcKeyGenOutcomeUnknownException"/> share of a key generation of <paramref name="owner"/>
    /// whose every ConfirmKeyGen was lost before reaching the server (the key waits unconfirmed, unstored).
    /// </summary>
    private async Task<ClientKeyShare> UnstoredShareOf(string owner)
    {
        using MpcSignerClient client = await ClientWhoseConfirmationsAreLost(owner);
        MpcKeyGenOutcomeUnknownException unknown = await Assert.ThrowsAsync<MpcKeyGenOutcomeUnknownException>(
            () => client.CreateKeyAsync(CurveKind.P256).WaitAsync(TimeSpan.FromSeconds(120)));
        return unknown.PendingShare!;
    }

    /// <summary>A client of <paramref name="owner"/> whose key generations ask to confirm later and whose confirmations are all lost.</summary>
    private async Task<MpcSignerClient> ClientWhoseConfirmationsAreLost(string owner)
    {
        using (MpcSignerClient known = server.Client(owner))
        using (await known.CreateKeyAsync(CurveKind.P256))
        {
            // The server now knows the fixture's device parameters for this user, so round 3 may go before the profile opens.
        }
        var store = new GatedStore(server.DeviceProfiles, server.RingPedersen.Parameters);
        return new MpcSignerClient(server.Address, server.Token(owner),
            new MpcSignerClientOptions { DeviceProfileStore = store, HttpHandler = new ConfirmationsLost(store) });
    }

    /// <summary>Opens the profile once CompleteKeyGen has been answered; every ConfirmKeyGen is lost before it reaches the server.</summary>
    private sealed class ConfirmationsLost(GatedStore store) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string method = request.RequestUri!.AbsolutePath[(request.RequestUri.AbsolutePath.LastIndexOf('/') + 1)..];
            if (method == "ConfirmKeyGen")
            {
                throw new HttpRequestException("the request was lost (test)");
            }
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            if (method == "CompleteKeyGen")
            {
                store.Open();
            }
            return response;
        }
    }

    [Fact]
    public async Task An_unconfirmed_file_of_another_curve_is_refused_in_one_line_and_kept()
    {
        await UnconfirmedFileOf(User, "p256.key");

        ProcessResult result = KeyGen("p256.key", User, "--curve", "p384");

        Assert.Equal(6, result.ExitCode);
        RefusedAndKept(result, "holds a P-256 key from an earlier run, not P-384: settle it with --curve P-256", "p256.key");
    }

    [Fact]
    public async Task An_unconfirmed_file_of_another_user_is_refused_in_one_line_and_kept()
    {
        await UnconfirmedFileOf(User, "mine.key");

        ProcessResult result = KeyGen("mine.key", user: User + "-intruder");

        Assert.Equal(6, result.ExitCode);
        RefusedAndKept(result, $"holds a key of user '{User}'", "mine.key");
    }

    private async Task<int> KeyCount()
    {
        using MpcSignerClient client = server.Client(User);
        return (await client.ListKeysAsync()).Count;
    }
}
