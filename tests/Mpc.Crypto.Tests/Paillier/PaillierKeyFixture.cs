using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;

namespace Mpc.Crypto.Tests.Paillier;

/// <summary>
/// 2048-bit keys generated once (about 100 ms each with OpenSSL) and shared by every Paillier test. The
/// OpenSSL key's primes are wrapped again for the managed backend so both run identical arithmetic;
/// <see cref="Default"/> is generated with <see cref="BigNumBackends.Default"/>, so a run with
/// <c>MPC_BIGNUM_BACKEND=managed</c> exercises managed key generation too.
/// </summary>
public sealed class PaillierKeyFixture : IDisposable
{
    private readonly PaillierPrivateKey _openSsl;
    private readonly PaillierPrivateKey _managed;
    private readonly PaillierPrivateKey _default;

    public PaillierKeyFixture()
    {
        _openSsl = PaillierPrivateKey.Generate(TestNumbers.Backend(BigNumBackendKind.OpenSsl));
        _managed = PaillierPrivateKey.FromPrimesUnchecked(_openSsl.P, _openSsl.Q, TestNumbers.Backend(BigNumBackendKind.Managed));
        _default = PaillierPrivateKey.Generate(BigNumBackends.Default);
    }

    /// <summary>A key on the process-wide default backend.</summary>
    public PaillierPrivateKey Default => _default;

    public PaillierPrivateKey Key(BigNumBackendKind kind) => kind switch
    {
        BigNumBackendKind.OpenSsl => _openSsl,
        BigNumBackendKind.Managed => _managed,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public void Dispose()
    {
        _openSsl.Dispose();
        _managed.Dispose();
        _default.Dispose();
    }
}

[CollectionDefinition("paillier key")]
public sealed class PaillierKeyCollection : ICollectionFixture<PaillierKeyFixture>
{
}
