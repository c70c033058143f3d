using System.Collections.Concurrent;
using System.Security.Cryptography;
using Grpc.Core;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Orleans.Hosting;

namespace Mpc.Server.Tests.Service;

/// <summary>
/// How many grain calls the server makes for one signature: the gRPC front end calls the user's grain once per round
/// trip and asks the key-owner grain only on the NotFound path (docs/architecture.md, "One signature").
/// </summary>
public sealed class GrainCallCountTests : IAsyncLifetime
{
    private readonly GrainCallCounter _calls = new();
    private readonly ServerFixture _server;

    public GrainCallCountTests() => _server = new ServerFixture { ConfigureSilo = silo => silo.AddIncomingGrainCallFilter(_calls) };

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task A_signature_with_a_held_commitment_costs_two_user_grain_calls_and_no_owner_lookup()
    {
        using MpcSignerClient client = _server.Client("counted");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        // The first signature also fetches a commitment (BeginSign); its finish hands out the next one.
        await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));

        _calls.Reset();
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        MpcSignature signature = await client.SignDigestAsync(key, digest);
        Assert.True(IndependentVerifiers.FromSubjectPublicKeyInfo(CurveKind.P256, key.SubjectPublicKeyInfo, digest, signature));

        Assert.Equal(["IUserKeysGrain.SignNonce", "IUserKeysGrain.SignFinish"], _calls.OnSigningPath());
        Assert.Equal(0, _calls.Count("IKeyOwnerGrain."));
    }

    [Fact]
    public async Task A_signature_without_a_held_commitment_costs_three_user_grain_calls()
    {
        using MpcSignerClient client = _server.Client("counted-cold");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        string keyId = key.KeyId;

        _calls.Reset();
        await client.SignDigestAsync(key, RandomNumberGenerator.GetBytes(32));

        Assert.Equal(["IUserKeysGrain.BeginSign", "IUserKeysGrain.SignNonce", "IUserKeysGrain.SignFinish"],
            _calls.OnSigningPath());
        Assert.Equal(0, _calls.Count("IKeyOwnerGrain."));

        // Another user naming this key: the owner is asked on the NotFound path and the answer is PermissionDenied, as before.
        _calls.Reset();
        using RawSigner raw = _server.Raw(_server.Token("counted-intruder"));
        Assert.Equal(StatusCode.PermissionDenied, await RawSigner.StatusOf(async () =>
            await raw.Client.BeginSignAsync(new Transport.V1.BeginSignRequest { KeyId = keyId }, raw.Headers)));
        Assert.Equal(1, _calls.Count("IKeyOwnerGrain.GetOwner"));
    }

    /// <summary>Records "Interface.Method" of every grain call the silo receives.</summary>
    private sealed class GrainCallCounter : IIncomingGrainCallFilter
    {
        private readonly ConcurrentQueue<string> _calls = new();

        public Task Invoke(IIncomingGrainCallContext context)
        {
            _calls.Enqueue($"{context.InterfaceName.Split('.').Last()}.{context.MethodName}");
            return context.Invoke();
        }

        public void Reset() => _calls.Clear();

        /// <summary>
        /// Calls of the front end on the user and key-owner grains; the audit hand-over (one background call per event,
        /// made by the user grain) and the grain's own marker-clearing timer are not on the caller's path.
        /// </summary>
        public string[] OnSigningPath() =>
            [.. _calls.Where(c => c.StartsWith("IUserKeysGrain.", StringComparison.Ordinal) || c.StartsWith("IKeyOwnerGrain.", StringComparison.Ordinal))];

        public int Count(string prefix) => _calls.Count(c => c.StartsWith(prefix, StringComparison.Ordinal));
    }
}
