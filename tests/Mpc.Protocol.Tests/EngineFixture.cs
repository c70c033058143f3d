using System.Collections.Concurrent;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;
using Mpc.Protocol.KeyGen;
using Mpc.Protocol.Keys;

namespace Mpc.Protocol.Tests;

/// <summary>
/// Expensive material made once per test run: the client's ring-Pedersen secret (two safe primes)
/// and one jointly generated key per curve.
/// </summary>
public sealed class EngineFixture : IDisposable
{
    private readonly ConcurrentDictionary<CurveKind, Lazy<TwoPartyKey>> _keys = new();

    public EngineFixture()
    {
        Backend = BigNumBackends.Create(BigNumBackendKind.Auto);
        Auxiliary = RingPedersenSecret.Generate(Backend);
        _cacheKnowingTheDevice = new(LearnTheDevice);
    }

    public IBigNumBackend Backend { get; }

    public RingPedersenSecret Auxiliary { get; }

    /// <summary>A server-side cache that has verified <see cref="Auxiliary"/>'s Πprm for user "alice" (in a key generation of its own).</summary>
    public VerifiedRingPedersenCache CacheKnowingTheDevice => _cacheKnowingTheDevice.Value;

    private readonly Lazy<VerifiedRingPedersenCache> _cacheKnowingTheDevice;

    private VerifiedRingPedersenCache LearnTheDevice()
    {
        var cache = new VerifiedRingPedersenCache(capacity: 8);
        var server = new KeyGenServerSession(KeyIds.New(), Backend) { KnownClientParameters = cache.For("alice") };
        var client = new KeyGenClientSession(CurveKind.P256, Auxiliary, Backend);
        client.HandleServerShare(server.HandleClientShare(client.HandleCommitment(server.HandleRequest(client.Start()))).Message).Dispose();
        return cache;
    }

    public TwoPartyKey Key(CurveKind curve) =>
        _keys.GetOrAdd(curve, c => new Lazy<TwoPartyKey>(() => TwoParty.KeyGen(c, Auxiliary, Backend))).Value;

    public void Dispose() => Auxiliary.Dispose();
}

[CollectionDefinition("engine")]
public sealed class EngineCollection : ICollectionFixture<EngineFixture>;
