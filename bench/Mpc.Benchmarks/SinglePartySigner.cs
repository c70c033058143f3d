using Mpc.Crypto.Curves;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace Mpc.Benchmarks;

/// <summary>
/// The baseline every signing table is compared with: an ordinary single-party ECDSA signature on the same
/// curve, by .NET's ECDsa (OpenSSL) for P-256 and P-384 and BouncyCastle for secp256k1.
/// </summary>
internal sealed class SinglePartySigner : IDisposable
{
    private readonly System.Security.Cryptography.ECDsa? _platform;
    private readonly ECDsaSigner? _bouncy;

    public SinglePartySigner(CurveKind curve)
    {
        if (curve == CurveKind.Secp256k1)
        {
            var generator = new ECKeyPairGenerator();
            generator.Init(new ECKeyGenerationParameters(EcCurve.Get(curve).DomainParameters, new SecureRandom()));
            _bouncy = new ECDsaSigner();
            _bouncy.Init(true, generator.GenerateKeyPair().Private);
        }
        else
        {
            _platform = System.Security.Cryptography.ECDsa.Create(curve == CurveKind.P256
                ? System.Security.Cryptography.ECCurve.NamedCurves.nistP256
                : System.Security.Cryptography.ECCurve.NamedCurves.nistP384);
        }
    }

    public object Sign(byte[] digest) => _platform is not null ? _platform.SignHash(digest) : _bouncy!.GenerateSignature(digest);

    public void Dispose() => _platform?.Dispose();
}
