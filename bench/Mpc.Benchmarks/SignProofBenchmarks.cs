using BenchmarkDotNet.Attributes;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Benchmarks;

/// <summary>
/// The c3 proof (Πaff-g style): the client's precomputation and online step, and the server's checks. Compare each row
/// with <see cref="Floor"/> (one 2048-bit exponentiation with a 2048-bit exponent through the same backend) and with
/// half of <c>openssl speed rsa4096</c>'s sign time measured beside the run. Randomness is single use, so
/// <see cref="PrepareRandomness"/> makes a fresh batch before every iteration of <see cref="SignProofProveOnline"/>.
/// </summary>
[InvocationCount(16, unrollFactor: 1)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet disposes through [GlobalCleanup].")]
public class SignProofBenchmarks
{
    private const int Batch = 16;
    private readonly Queue<SignCiphertextRandomness> _randomness = new();
    private EcCurve _curve = null!;
    private IBigNumBackend _backend = null!;
    private PaillierPrivateKey _key = null!;
    private RingPedersenParameters _parameters = null!;
    private RingPedersenSecret _verifierSecret = null!;
    private BigInteger _x1 = null!;
    private BigInteger _encryptedShare = null!;
    private ECPoint _r2 = null!;
    private ECPoint _x1Point = null!;
    private ECPoint _x2Point = null!;
    private BigInteger _alpha = null!;
    private BigInteger _beta = null!;
    private ProofContext _context = null!;
    private byte[] _binding = [];
    private BigInteger _c3 = null!;
    private SignCiphertextProof _proof = null!;
    private BigInteger _floorBase = null!;
    private BigInteger _floorExponent = null!;

    [Params(CurveKind.P256)]
    public CurveKind Curve { get; set; }

    [Params(BigNumBackendKind.OpenSsl)]
    public BigNumBackendKind Backend { get; set; }

    [Params(2048)]
    public int ModulusBits { get; set; } = 2048;

    [GlobalSetup]
    public void Setup()
    {
        _curve = EcCurve.Get(Curve);
        _backend = BigNumBackends.Create(Backend);
        _key = PaillierPrivateKey.Generate(_backend, ModulusBits);
        // The server keeps this per loaded key (ServerKeyShare.RingPedersen), so deriving it is not part of a signature.
        _verifierSecret = RingPedersenSecret.DeriveFromPaillier(_key);
        _parameters = _verifierSecret.Parameters;
        BigInteger q = _curve.Order;
        _x1 = _curve.RandomScalar();
        _encryptedShare = _key.PublicKey.Encrypt(_x1);
        BigInteger x2 = _curve.RandomScalar(), k2 = _curve.RandomScalar(), r = _curve.RandomScalar();
        BigInteger mPrime = _curve.DigestToScalar(Digest.Parse(new byte[32] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 }));
        BigInteger k2Inverse = k2.ModInverse(q);
        _r2 = _curve.MultiplyBase(k2);
        _alpha = k2Inverse.Multiply(r).Multiply(x2).Mod(q);
        _beta = new BigInteger(SignCiphertextProofParameters.MaskBits(_curve), new Org.BouncyCastle.Security.SecureRandom())
            .Multiply(q).Add(k2Inverse.Multiply(mPrime).Mod(q));
        _x1Point = _curve.MultiplyBase(r.Multiply(x2).Mod(q));
        _x2Point = _curve.MultiplyBase(mPrime);
        _context = new ProofContext(new byte[32], PartyRole.Client, "bench-key", Curve);
        _binding = new WireWriter().WriteString("device").WriteBytes(new byte[32]).WriteString("share").ToArray();
        using SignCiphertextRandomness randomness = SignProofPrecompute();
        _c3 = Prove(randomness, out _proof);
        _floorBase = _key.PublicKey.RandomUnit();
        _floorExponent = _key.PublicKey.RandomUnit();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        while (_randomness.TryDequeue(out SignCiphertextRandomness? randomness))
        {
            randomness.Dispose();
        }
        _verifierSecret.Dispose();
        _key.Dispose();
    }

    [IterationSetup(Target = nameof(SignProofProveOnline))]
    public void PrepareRandomness()
    {
        for (int i = _randomness.Count; i < Batch; i++)
        {
            _randomness.Enqueue(SignProofPrecompute());
        }
    }

    [Benchmark(Description = "client: c3 proof precompute (masks, A, E, F, t^m, t^μ, ρ^N)")]
    public SignCiphertextRandomness SignProofPrecompute() =>
        SignCiphertextRandomness.Create(_curve, _key.PublicKey, _encryptedShare, _parameters);

    [Benchmark(Description = "client: c3 + proof, randomness ready")]
    public BigInteger SignProofProveOnline()
    {
        using SignCiphertextRandomness randomness = _randomness.Dequeue();
        return Prove(randomness, out _);
    }

    [Benchmark(Description = "server: verify (one prime of N, x1 known) + centred decrypt")]
    public BigInteger SignProofVerify()
    {
        // What SignServerSession does: the check with the key's cached ring-Pedersen secret, then the centred decryption.
        _proof.VerifyWithShare(_curve, _key, _verifierSecret, _encryptedShare, _x1, _c3, _r2, _x1Point, _x2Point, _context, _binding);
        return SignCiphertextProof.DecryptCentred(_key, _c3);
    }

    [Benchmark(Description = "server: verify only (one prime of N, decrypts c_key for x1)")]
    public SignCiphertextProof SignProofVerifyWithoutShare()
    {
        _proof.Verify(_curve, _key, _parameters, _encryptedShare, _c3, _r2, _x1Point, _x2Point, _context, _binding);
        return _proof;
    }

    [Benchmark(Description = "anyone: verify with the public key only")]
    public SignCiphertextProof SignProofVerifyPublicKey()
    {
        _proof.Verify(_curve, _key.PublicKey, _parameters, _encryptedShare, _c3, _r2, _x1Point, _x2Point, _context, _binding);
        return _proof;
    }

    [Benchmark(Description = "server: Paillier decrypt of c3 (no proof)")]
    public BigInteger Decrypt() => _key.Decrypt(_c3);

    [Benchmark(Description = "floor: one 2048-bit modexp, 2048-bit exponent")]
    public BigInteger Floor() => _backend.ModPow(_floorBase, _floorExponent, _key.PublicKey.N);

    private BigInteger Prove(SignCiphertextRandomness randomness, out SignCiphertextProof proof) =>
        SignCiphertextProof.EncryptAndProve(
            _curve, _key.PublicKey, _parameters, _encryptedShare, _r2, _x1Point, _x2Point, _alpha, _beta, randomness, _context, _binding, out proof);
}
