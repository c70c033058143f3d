using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using ECDsa = System.Security.Cryptography.ECDsa;

namespace Mpc.Crypto.Curves;

/// <summary>
/// Standard ECDSA verification for one public key, built once and reused. P-256 and P-384 go through the
/// platform's verifier (OpenSSL: about 45 µs), secp256k1 through <see cref="EcCurve.Verify"/>, which is
/// as fast there (BouncyCastle with the curve's GLV endomorphism). Either answers exactly "does (r, s)
/// verify", as any ECDSA verifier would.
/// </summary>
public sealed class SignatureVerifier : IDisposable
{
    private readonly EcCurve _curve;
    private readonly ECPoint _publicKey;
    private readonly ECDsa? _platform;

    public SignatureVerifier(EcCurve curve, ECPoint publicKey)
    {
        _curve = curve;
        _publicKey = publicKey.Normalize();
        if (curve.Kind is CurveKind.P256 or CurveKind.P384)
        {
            _platform = ECDsa.Create(new System.Security.Cryptography.ECParameters
            {
                Curve = curve.Kind == CurveKind.P256
                    ? System.Security.Cryptography.ECCurve.NamedCurves.nistP256
                    : System.Security.Cryptography.ECCurve.NamedCurves.nistP384,
                Q = new System.Security.Cryptography.ECPoint
                {
                    X = _publicKey.AffineXCoord.GetEncoded(),
                    Y = _publicKey.AffineYCoord.GetEncoded(),
                },
            });
        }
    }

    public bool Verify(Digest digest, BigInteger r, BigInteger s)
    {
        if (r.SignValue <= 0 || r.CompareTo(_curve.Order) >= 0 || s.SignValue <= 0 || s.CompareTo(_curve.Order) >= 0)
        {
            return false;
        }
        if (_platform is null)
        {
            return _curve.Verify(_publicKey, digest, r, s);
        }
        // The digest's length was checked when it was parsed; the platform truncates exactly as SEC1 says.
        Span<byte> signature = stackalloc byte[2 * _curve.ScalarLength];
        _curve.EncodeScalar(r).CopyTo(signature);
        _curve.EncodeScalar(s).CopyTo(signature[_curve.ScalarLength..]);
        return _platform.VerifyHash(digest.Span, signature);
    }

    public void Dispose() => _platform?.Dispose();
}
