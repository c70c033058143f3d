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
using Mpc.Protocol.KeyGen;
using Mpc.Server;
using Mpc.Transport.V1;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// A separate server with its own data directory: key generations that are never completed leave nothing in
/// storage (the key id is claimed only at completion), and a user can have only a few pending at once.
/// </summary>
public sealed class AbandonedKeyGenTests : IAsyncLifetime
{
    private readonly ServerFixture _server = new()
    {
        ConfigureOptions = options => options.Quiet = true,
    };

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    /// <summary>Every file under the data directory with a hash of its contents (but the running server's held, empty lock file).</summary>
    private Dictionary<string, string> Storage() =>
        Directory.EnumerateFiles(_server.DataDirectory, "*", SearchOption.AllDirectories)
            .Where(path => Path.GetFileName(path) != DataDirectoryLock.FileName)
            .ToDictionary(path => Path.GetRelativePath(_server.DataDirectory, path), path => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))));

    [Fact]
    public async Task Five_hundred_abandoned_key_generations_leave_storage_as_it_was()
    {
        // One completed key first, so storage holds a real user and key record to compare against.
        using (var client = new MpcSignerClient(_server.Address, _server.Token("abandon-0"), new MpcSignerClientOptions { DeviceProfileStore = _server.DeviceProfiles }))
        using (MpcKey key = await client.CreateKeyAsync(CurveKind.P256))
        {
            Assert.NotNull(await client.GetKeyAsync(key.KeyId));
        }
        await Task.Delay(TimeSpan.FromSeconds(2)); // the audit trail's periodic flush of that key generation
        Dictionary<string, string> before = Storage();
        Assert.NotEmpty(before);

        using var session = new KeyGenClientSession(CurveKind.Secp256k1, _server.RingPedersen, BigNumBackends.Default);
        ByteString validRequest = ByteString.CopyFrom(session.Start().Encode());
        int garbage = 0, pending = 0, completedWithGarbage = 0;
        for (int u = 0; u < 50; u++)
        {
            using RawSigner raw = new(_server.Address, _server.Token($"abandon-{u}"));
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
        using var session = new KeyGenClientSession(CurveKind.P256, _server.RingPedersen, BigNumBackends.Default);
        var request = new BeginKeyGenRequest { Request = ByteString.CopyFrom(session.Start().Encode()) };
        using RawSigner raw = new(_server.Address, _server.Token("pending-cap"));
        for (int i = 0; i < 8; i++)
        {
            await raw.Client.BeginKeyGenAsync(request, raw.Headers);
        }
        Assert.Equal(StatusCode.ResourceExhausted, await RawSigner.StatusOf(async () => await raw.Client.BeginKeyGenAsync(request, raw.Headers)));
        // Another user is not affected.
        using RawSigner other = new(_server.Address, _server.Token("pending-cap-other"));
        await other.Client.BeginKeyGenAsync(request, other.Headers);
    }

    [Fact]
    public async Task A_key_id_claimed_by_another_user_before_completion_stores_nothing()
    {
        using var client = new MpcSignerClient(_server.Address, _server.Token("claim-race"), new MpcSignerClientOptions { DeviceProfileStore = _server.DeviceProfiles });
        using var session = new KeyGenClientSession(CurveKind.P256, _server.RingPedersen, BigNumBackends.Default);
        using RawSigner raw = new(_server.Address, _server.Token("claim-race"));
        BeginKeyGenResponse begun = await raw.Client.BeginKeyGenAsync(new BeginKeyGenRequest { Request = ByteString.CopyFrom(session.Start().Encode()) }, raw.Headers);
        Mpc.Protocol.Messages.KeyGenClientShare share = session.HandleCommitment(Mpc.Protocol.Messages.KeyGenCommitment.Decode(begun.Commitment.Span));
        Assert.True(await _server.Grains.GetGrain<IKeyOwnerGrain>(begun.KeyId).Claim("someone-else"));
        var complete = new CompleteKeyGenRequest { KeyId = begun.KeyId, ClientShare = ByteString.CopyFrom(share.Encode()) };
        Assert.Equal(StatusCode.PermissionDenied, await RawSigner.StatusOf(async () => await raw.Client.CompleteKeyGenAsync(complete, raw.Headers)));
        Assert.Empty(await client.ListKeysAsync());
    }
}
