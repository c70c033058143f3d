using BenchmarkDotNet.Attributes;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Benchmarks;

/// <summary>
/// Paillier decryption (OpenSSL backend, 2048-bit N) beside the cost floor F of the same run, so the Ratio
/// column reads "Decrypt / F" directly (target ≤ 1.2). F is half an RSA-4096 private-key signature
/// (<see cref="CostFloor"/>): the Floor row signs once per call and counts it as two operations.
/// </summary>
public class PaillierFloorBenchmarks
{
    private CostFloor _floor = null!;
    private PaillierPrivateKey _key = null!;
    private BigInteger _ciphertext = null!;

    [GlobalSetup]
    public void Setup()
    {
        _floor = CostFloor.Create();
        _key = PaillierPrivateKey.Generate(BigNumBackends.Create(BigNumBackendKind.OpenSsl), 2048);
        _ciphertext = _key.PublicKey.Encrypt(_key.PublicKey.RandomUnit());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _key.Dispose();
        _floor.Dispose();
    }

    /// <summary>F: half of one RSA-4096 signature (equivalent to `openssl speed rsa4096` sign time / 2).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = 2)]
    public byte[] Floor() => _floor.SignOnce();

    /// <summary>CRT decryption including the Z*_{N²} check, entirely in libcrypto's constant-time routines.</summary>
    [Benchmark]
    public BigInteger Decrypt() => _key.Decrypt(_ciphertext);
}
