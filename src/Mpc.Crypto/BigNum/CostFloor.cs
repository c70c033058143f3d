using System.Diagnostics;
using System.Security.Cryptography;

namespace Mpc.Crypto.BigNum;

/// <summary>
/// The cost floor F that speed targets are stated against: half of one RSA-4096 private-key signature on this
/// machine, now. An RSA-4096 CRT signature is two constant-time exponentiations with a 2048-bit modulus and a
/// 2048-bit exponent, i.e. the same work as the two 2048-bit-modulus, 1024-bit-exponent exponentiations a CRT
/// Paillier decryption with a 2048-bit N cannot avoid; so F is what `openssl speed rsa4096` reports as sign
/// time, halved. Measured in-process through .NET's RSA (OpenSSL's libcrypto on Linux), so that it shares the
/// machine's load and clock with the figure it is compared to.
/// </summary>
public sealed class CostFloor : IDisposable
{
    private static readonly byte[] Digest = SHA256.HashData("mpc-signer cost floor"u8);
    private readonly RSA _rsa;

    private CostFloor(RSA rsa) => _rsa = rsa;

    /// <summary>Generates the RSA-4096 key once (a second or so): keep the instance to measure repeatedly.</summary>
    public static CostFloor Create()
    {
        var rsa = RSA.Create(4096);
        // RSA.Create generates lazily; sign once so generation is not part of any measurement.
        rsa.SignHash(Digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return new CostFloor(rsa);
    }

    /// <summary>F measured now: a fresh key, then <see cref="Measure(int)"/>.</summary>
    public static TimeSpan MeasureOnce(int signatures = 25)
    {
        using CostFloor floor = Create();
        return floor.Measure(signatures);
    }

    /// <summary>One RSA-4096 private-key signature: two floors of work (benchmarks count it as two operations).</summary>
    public byte[] SignOnce() => _rsa.SignHash(Digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>The median of <paramref name="signatures"/> timed signatures, halved. The median resists a noisy, shared machine.</summary>
    public TimeSpan Measure(int signatures = 25)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(signatures, 1);
        SignOnce();
        var ticks = new long[signatures];
        for (int i = 0; i < signatures; i++)
        {
            long start = Stopwatch.GetTimestamp();
            SignOnce();
            ticks[i] = Stopwatch.GetTimestamp() - start;
        }
        Array.Sort(ticks);
        return Stopwatch.GetElapsedTime(0, ticks[signatures / 2]) / 2;
    }

    public void Dispose() => _rsa.Dispose();
}
