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

namespace Mpc.Service.Tests.Service;

/// <summary>A separate in-process server whose keys may sign 3 times per 3-second window.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("mpc-ratelimit-").FullName;
    private readonly RingPedersenSecret _ringPedersen = RingPedersenSecret.Generate(BigNumBackends.Default);
    private WebApplication? _app;
    private Uri _address = null!;

    public async Task InitializeAsync()
    {
        var options = new MpcServerOptions { DataDirectory = _dataDirectory, Urls = "http://127.0.0.1:0" };
        options.Signer.MaxSignaturesPerKey = 3;
        options.Signer.SignatureRateWindow = Window;
        _app = MpcServerHost.Build(options);
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

    [Fact]
    public async Task The_fourth_signature_in_a_window_is_ResourceExhausted_audited_and_the_key_signs_again_after_the_window()
    {
        string token;
        using (DevelopmentTokens tokens = DevelopmentTokens.Open(_dataDirectory, create: false))
        {
            token = tokens.Mint("rate-user", TimeSpan.FromHours(1));
        }
        using var client = new MpcSignerClient(_address, token, new MpcSignerClientOptions { RingPedersen = _ringPedersen });
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        for (int i = 0; i < 3; i++)
        {
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            EcdsaSignature signature = await client.SignDigestAsync(key, digest);
            Assert.True(Verifiers.Independent(CurveKind.P256, key.SubjectPublicKeyInfo, digest, signature));
        }
        byte[] refusedDigest = RandomNumberGenerator.GetBytes(32);
        MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => client.SignDigestAsync(key, refusedDigest));
        Assert.Equal(StatusCode.ResourceExhausted, refused.Status);
        Assert.Contains("limit of 3 signatures per 3 s; retry in", refused.Message, StringComparison.Ordinal);
        Assert.False((await client.GetKeyAsync(key.KeyId)).Frozen);

        // Every refusal is in the chain, with the digest it refused.
        MpcAuditPage log = await AuditTests.WaitForEntriesAsync(client, key.KeyId, 5);
        Assert.True(MpcAuditLog.Verify(key.KeyId, log.Entries).IsValid);
        MpcAuditEntry entry = Assert.Single(log.Entries, e => e.Outcome == "rate-limited");
        Assert.Equal("sign", entry.Event);
        Assert.Equal(refusedDigest, entry.Digest);

        // The window slides: once the earlier signatures are older than it, the key signs again.
        await Task.Delay(Window + TimeSpan.FromMilliseconds(200));
        byte[] later = RandomNumberGenerator.GetBytes(32);
        Assert.True(Verifiers.Independent(CurveKind.P256, key.SubjectPublicKeyInfo, later, await client.SignDigestAsync(key, later)));
    }
}
