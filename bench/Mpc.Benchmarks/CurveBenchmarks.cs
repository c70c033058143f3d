using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Mpc.Crypto.Curves;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using BigInteger = Org.BouncyCastle.Math.BigInteger;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Benchmarks;

/// <summary>
/// Curve operations per curve, against a single-party ECDSA baseline: .NET's <see cref="ECDsa"/>
/// (OpenSSL underneath) for P-256 and P-384, BouncyCastle's <see cref="ECDsaSigner"/> for secp256k1,
/// which .NET does not offer on every platform.
/// </summary>
public class CurveBenchmarks : IDisposable
{
    private EcCurve _curve = null!;
    private BigInteger _scalar = null!;
    private byte[] _encodedPoint = null!;
    private ECPoint _publicKey = null!;
    private byte[] _digest = null!;
    private BigInteger _r = null!;
    private BigInteger _s = null!;
    private ECDsa? _dotnet;
    private byte[] _dotnetSignature = [];
    private ECDsaSigner? _bcSigner;
    private ECDsaSigner? _bcVerifier;
    private byte[][] _freshPoints = [];
    private int _nextFresh;

    [Params(CurveKind.Secp256k1, CurveKind.P256, CurveKind.P384)]
    public CurveKind Curve { get; set; } = CurveKind.Secp256k1;

    [GlobalSetup]
    public void Setup()
    {
        _curve = EcCurve.Get(Curve);
        _scalar = _curve.RandomScalar();
        _digest = RandomNumberGenerator.GetBytes(32);
        BigInteger privateKey;
        if (Curve == CurveKind.Secp256k1)
        {
            privateKey = _curve.RandomScalar();
            _publicKey = _curve.MultiplyBase(privateKey);
            _bcSigner = new ECDsaSigner();
            _bcSigner.Init(true, new ParametersWithRandom(new ECPrivateKeyParameters(privateKey, _curve.DomainParameters), new SecureRandom()));
            _bcVerifier = new ECDsaSigner();
            _bcVerifier.Init(false, new ECPublicKeyParameters(_publicKey, _curve.DomainParameters));
            BigInteger[] rs = _bcSigner.GenerateSignature(_digest);
            (_r, _s) = (rs[0], rs[1]);
        }
        else
        {
            _dotnet = ECDsa.Create(Curve == CurveKind.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384);
            ECParameters parameters = _dotnet.ExportParameters(includePrivateParameters: false);
            _publicKey = _curve.DecodePoint([(byte)(0x02 | (parameters.Q.Y![^1] & 1)), .. parameters.Q.X!], "public key");
            _dotnetSignature = _dotnet.SignHash(_digest);
            _r = new BigInteger(1, _dotnetSignature, 0, _curve.ScalarLength);
            _s = new BigInteger(1, _dotnetSignature, _curve.ScalarLength, _curve.ScalarLength);
        }
        _encodedPoint = _curve.EncodePoint(_curve.MultiplyBase(_curve.RandomScalar()));
        _freshPoints = [.. Enumerable.Range(0, 256).Select(_ => _curve.EncodePoint(_curve.MultiplyBase(_curve.RandomScalar())))];
        if (!_curve.Verify(_publicKey, Digest.Parse(_digest), _r, _s))
        {
            throw new InvalidOperationException("Setup produced a signature that does not verify.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _dotnet?.Dispose();
        _dotnet = null;
    }

    public void Dispose()
    {
        Cleanup();
        GC.SuppressFinalize(this);
    }

    /// <summary>k·G with the fixed-point comb.</summary>
    [Benchmark]
    public ECPoint MultiplyBase() => _curve.MultiplyBase(_scalar);

    /// <summary>Validated SEC1 compressed decoding (square root and on-curve check).</summary>
    [Benchmark]
    public ECPoint DecodePoint() => _curve.DecodePoint(_encodedPoint, "point");

    [Benchmark]
    public bool Verify() => _curve.Verify(_publicKey, Digest.Parse(_digest), _r, _s);

    /// <summary>
    /// a·G + b·P for public scalars as the verifiers compute it (<see cref="EcCurve.SumOfTwoMultiplies"/>), P decoded
    /// fresh each time as a received point is (so no precomputation cached on P helps; the decoding is in both rows).
    /// </summary>
    [Benchmark]
    public ECPoint SumOfTwoMultiplies() => _curve.SumOfTwoMultiplies(_r, NextFreshPoint(), _s);

    /// <summary>The same sum by BouncyCastle (Shamir's trick with wNAF tables, GLV on secp256k1), for comparison.</summary>
    [Benchmark]
    public ECPoint SumOfTwoMultipliesBouncyCastle() =>
        Org.BouncyCastle.Math.EC.ECAlgorithms.SumOfTwoMultiplies(_curve.G, _r, NextFreshPoint(), _s).Normalize();

    private ECPoint NextFreshPoint()
    {
        _nextFresh = (_nextFresh + 1) % _freshPoints.Length;
        return _curve.DecodePoint(_freshPoints[_nextFresh], "point");
    }

    /// <summary>Baseline: one ordinary single-party ECDSA signature.</summary>
    [Benchmark(Baseline = true)]
    public object SinglePartySign() =>
        _dotnet is not null ? _dotnet.SignHash(_digest) : _bcSigner!.GenerateSignature(_digest);

    /// <summary>Single-party verification by the same library, for comparison with <see cref="Verify"/>.</summary>
    [Benchmark]
    public bool SinglePartyVerify() =>
        _dotnet is not null ? _dotnet.VerifyHash(_digest, _dotnetSignature) : _bcVerifier!.VerifySignature(_digest, _r, _s);
}
