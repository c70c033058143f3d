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
using Mpc.Protocol.KeyGen;
using Mpc.Server;
using Mpc.Transport.V1;

namespace Mpc.Service.Tests.Service;

/// <summary>
/// A separate server with its own data directory: key generations that are never completed leave nothing in
/// storage (the key id is claimed only at completion), and a user can have only a few pending at once.
/// </summary>
public sealed class AbandonedKeyGenTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("mpc-abandoned-").FullName;
    private readonly RingPedersenSecret _ringPedersen = RingPedersenSecret.Generate(BigNumBackends.Default);
    private WebApplication? _app;
    private Uri _address = null!;

    public async Task InitializeAsync()
    {
        _app = MpcServerHost.Build(new MpcServerOptions { DataDirectory = _dataDirectory, Urls = "http://127.0.0.1:0", Quiet = true });
        await _app.StartAsync();
        _address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        _ringPedersen.Dispose();
        foreach (string directory in new[] { _dataDirectory, _dataDirectory + "-kek" })
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private string Token(string user)
    {
        using DevelopmentTokens tokens = DevelopmentTokens.Open(_dataDirectory, create: false);
        return tokens.Mint(user, TimeSpan.FromHours(1));
    }

    /// <summary>Every file under the data directory with a hash of its contents (but the running server's held, empty lock file).</summary>
    private Dictionary<string, string> Storage() =>
        Directory.EnumerateFiles(_dataDirectory, "*", SearchOption.AllDirectories)
            .Where(path => Path.GetFileName(path) != DataDirectoryLock.FileName)
            .ToDictionary(path => Path.GetRelativePath(_dataDirectory, path), path => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))));

    [Fact]
    public async Task Five_hundred_abandoned_key_generations_leave_storage_as_it_was()
    {
        // One completed key first, so storage holds a real user and key record to compare against.
        using (var client = new MpcSignerClient(_address, Token("abandon-0"), new MpcSignerClientOptions { RingPedersen = _ringPedersen }))
        using (MpcKey key = await client.CreateKeyAsync(CurveKind.P256))
        {
            Assert.NotNull(await client.GetKeyAsync(key.KeyId));
        }
        await Task.Delay(TimeSpan.FromSeconds(2)); // the audit trail's periodic flush of that key generation
        Dictionary<string, string> before = Storage();
        Assert.NotEmpty(before);

        using var session = new KeyGenClientSession(CurveKind.Secp256k1, _ringPedersen, BigNumBackends.Default);
        ByteString validRequest = ByteString.CopyFrom(session.Start().Encode());
        int garbage = 0, pending = 0, completedWithGarbage = 0;
        for (int u = 0; u < 50; u++)
        {
            using RawSigner raw = new(_address, Token($"abandon-{u}"));
            for (int i = 0; i < 10; i++)
            {
                if (i % 2 == 0)
                {
                    // Garbage: random request bytes.
                    var request = new BeginKeyGenRequest { Request = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(64 + i)) };
                    Assert.Equal(StatusCode.InvalidArgument, await RawSigner.StatusOf(async () => await raw.Client.BeginKeyGenAsync(request, raw.Headers)));
                    garbage++;
                    continue;
                }
                // Valid, never completed; every other one gets a garbage completion as well.
                BeginKeyGenResponse begun = await raw.Client.BeginKeyGenAsync(new BeginKeyGenRequest { Request = validRequest }, raw.Headers);
                pending++;
                if (i % 4 == 1)
                {
                    var complete = new CompleteKeyGenRequest { KeyId = begun.KeyId, ClientShare = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(300)) };
                    Assert.Equal(StatusCode.InvalidArgument, await RawSigner.StatusOf(async () => await raw.Client.CompleteKeyGenAsync(complete, raw.Headers)));
                    completedWithGarbage++;
                }
                // Nobody owns the pending key id yet: it names no key.
                Assert.Equal(StatusCode.NotFound, await RawSigner.StatusOf(async () => await raw.Client.GetKeyAsync(new GetKeyRequest { KeyId = begun.KeyId }, raw.Headers)));
            }
        }
        Assert.Equal(500, garbage + pending);
        Assert.True(completedWithGarbage > 0);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(before, Storage());
    }

    [Fact]
    public async Task A_user_may_have_eight_key_generations_pending_and_the_ninth_is_resource_exhausted()
    {
        using var session = new KeyGenClientSession(CurveKind.P256, _ringPedersen, BigNumBackends.Default);
        var request = new BeginKeyGenRequest { Request = ByteString.CopyFrom(session.Start().Encode()) };
        using RawSigner raw = new(_address, Token("pending-cap"));
        for (int i = 0; i < 8; i++)
        {
            await raw.Client.BeginKeyGenAsync(request, raw.Headers);
        }
        Assert.Equal(StatusCode.ResourceExhausted, await RawSigner.StatusOf(async () => await raw.Client.BeginKeyGenAsync(request, raw.Headers)));
        // Another user is not affected.
        using RawSigner other = new(_address, Token("pending-cap-other"));
        await other.Client.BeginKeyGenAsync(request, other.Headers);
    }

    [Fact]
    public async Task A_key_id_claimed_by_another_user_before_completion_stores_nothing()
    {
        using var client = new MpcSignerClient(_address, Token("claim-race"), new MpcSignerClientOptions { RingPedersen = _ringPedersen });
        using var session = new KeyGenClientSession(CurveKind.P256, _ringPedersen, BigNumBackends.Default);
        using RawSigner raw = new(_address, Token("claim-race"));
        BeginKeyGenResponse begun = await raw.Client.BeginKeyGenAsync(new BeginKeyGenRequest { Request = ByteString.CopyFrom(session.Start().Encode()) }, raw.Headers);
        Mpc.Protocol.Messages.KeyGenClientShare share = session.HandleCommitment(Mpc.Protocol.Messages.KeyGenCommitment.Decode(begun.Commitment.Span));
        Assert.True(await _app!.Services.GetRequiredService<IGrainFactory>().GetGrain<IKeyOwnerGrain>(begun.KeyId).Claim("someone-else"));
        var complete = new CompleteKeyGenRequest { KeyId = begun.KeyId, ClientShare = ByteString.CopyFrom(share.Encode()) };
        Assert.Equal(StatusCode.PermissionDenied, await RawSigner.StatusOf(async () => await raw.Client.CompleteKeyGenAsync(complete, raw.Headers)));
        Assert.Empty(await client.ListKeysAsync());
    }
}
