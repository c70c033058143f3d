using BenchmarkDotNet.Attributes;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Benchmarks;

/// <summary>
/// Paillier costs per big-number backend and modulus size. The key is generated once per parameter
/// combination in <see cref="Setup"/>; nothing is generated inside a measured call except where the
/// benchmark is exactly that work (<see cref="Encrypt"/> draws fresh randomness by design).
/// </summary>
public class PaillierBenchmarks
{
    /// <summary>
    /// Precomputed randomness is single use, and BenchmarkDotNet may call a fast benchmark millions of
    /// times, so no fixed pool lasts a run. <see cref="SetupPrecomputed"/> (run only for
    /// <see cref="EncryptPrecomputed"/>) computes <see cref="DistinctPowers"/> real r^N values and spreads
    /// them over <see cref="PoolSize"/> single-use <see cref="PaillierRandomness"/> objects; when the pool
    /// runs out it is refilled by re-wrapping the same values: an allocation each, no exponentiation.
    /// The measured hot path (consume, (1 + mN), one multiplication mod N²) is the production one, and
    /// its cost does not depend on which r^N it gets. Repeating an r^N is harmless here because the
    /// ciphertexts are thrown away; computing 512 real ones would cost up to 75 s of setup per case.
    /// </summary>
    private const int PoolSize = 512;

    private const int DistinctPowers = 16;

    private PaillierPrivateKey _key = null!;
    private PaillierPublicKey _publicKey = null!;
    private IBigNumBackend _backend = null!;
    private BigInteger _plaintext = null!;
    private BigInteger _ciphertext = null!;
    private BigInteger _scalar = null!;
    private BigInteger _nonce = null!;
    private BigInteger[] _noncePowers = [];
    private PaillierRandomness[] _pool = [];
    private int _next;
    private BigInteger _rawModulus = null!;
    private BigInteger _rawBase = null!;
    private BigInteger _rawExponent = null!;

    [Params("openssl", "managed")]
    public string Backend { get; set; } = "openssl";

    [Params(2048, 3072)]
    public int ModulusBits { get; set; } = 2048;

    [GlobalSetup(Targets = new[]
    {
        nameof(Encrypt), nameof(Decrypt), nameof(HomomorphicScalarMultiply), nameof(NoncePower), nameof(NoncePowerCrt), nameof(RawModPow4096),
    })]
    public void Setup()
    {
        _backend = BigNumBackends.Create(Backend switch
        {
            "openssl" => BigNumBackendKind.OpenSsl,
            "managed" => BigNumBackendKind.Managed,
            _ => throw new InvalidOperationException($"Unknown backend '{Backend}'."),
        });
        _key = PaillierPrivateKey.Generate(_backend, ModulusBits);
        _publicKey = _key.PublicKey;
        _plaintext = _publicKey.RandomUnit();
        _ciphertext = _publicKey.Encrypt(_plaintext);
        var random = new Org.BouncyCastle.Security.SecureRandom();
        _scalar = new BigInteger(256, random).SetBit(255);
        _nonce = _publicKey.RandomUnit();
        _rawModulus = new BigInteger(4096, random).SetBit(4095).SetBit(0);
        _rawBase = new BigInteger(4095, random);
        _rawExponent = new BigInteger(2048, random).SetBit(2047);
    }

    [GlobalSetup(Target = nameof(EncryptPrecomputed))]
    public void SetupPrecomputed()
    {
        Setup();
        _noncePowers = new BigInteger[DistinctPowers];
        for (int i = 0; i < DistinctPowers; i++)
        {
            _noncePowers[i] = _backend.ModPow(_publicKey.RandomUnit(), _publicKey.N, _publicKey.NSquared);
        }
        _pool = new PaillierRandomness[PoolSize];
        RefillPool();
    }

    [GlobalCleanup]
    public void Cleanup() => _key.Dispose();

    /// <summary>Encryption with fresh randomness: draw r, r^N mod N², then (1 + mN)·r^N.</summary>
    [Benchmark]
    public BigInteger Encrypt() => _publicKey.Encrypt(_plaintext);

    /// <summary>Encryption with precomputed randomness: the online cost (see <see cref="PoolSize"/>).</summary>
    [Benchmark]
    public BigInteger EncryptPrecomputed()
    {
        if (_next == PoolSize)
        {
            RefillPool();
        }
        return _publicKey.Encrypt(_plaintext, _pool[_next++]);
    }

    /// <summary>CRT decryption, including the Z*_{N²} membership check.</summary>
    [Benchmark]
    public BigInteger Decrypt() => _key.Decrypt(_ciphertext);

    /// <summary>Enc(m)^k for a 256-bit k: what P2 does with the encrypted key share.</summary>
    [Benchmark]
    public BigInteger HomomorphicScalarMultiply() => _publicKey.Multiply(_ciphertext, _scalar);

    /// <summary>r^N mod N² on the public path: the exponentiation that dominates encryption.</summary>
    [Benchmark]
    public BigInteger NoncePower() => _backend.ModPow(_nonce, _publicKey.N, _publicKey.NSquared);

    /// <summary>The same r^N mod N² through the key owner's CRT.</summary>
    [Benchmark]
    public BigInteger NoncePowerCrt() => _key.NoncePower(_nonce);

    /// <summary>A raw exponentiation independent of the Paillier size: 4096-bit modulus, 2048-bit exponent.</summary>
    [Benchmark]
    public BigInteger RawModPow4096() => _backend.ModPow(_rawBase, _rawExponent, _rawModulus);

    private void RefillPool()
    {
        for (int i = 0; i < PoolSize; i++)
        {
            _pool[i] = new PaillierRandomness(_publicKey.N, _noncePowers[i % DistinctPowers]);
        }
        _next = 0;
    }
}
