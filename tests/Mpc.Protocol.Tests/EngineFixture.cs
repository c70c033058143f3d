using System.Collections.Concurrent;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;

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
    }

    public IBigNumBackend Backend { get; }

    public RingPedersenSecret Auxiliary { get; }

    public TwoPartyKey Key(CurveKind curve) =>
        _keys.GetOrAdd(curve, c => new Lazy<TwoPartyKey>(() => TwoParty.KeyGen(c, Auxiliary, Backend))).Value;

    public void Dispose() => Auxiliary.Dispose();
}

[CollectionDefinition("engine")]
public sealed class EngineCollection : ICollectionFixture<EngineFixture>;
