using System.Runtime.Versioning;
using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;

namespace Mpc.Browser;

/// <summary>
/// The browser's big-number backend: modular exponentiation and prime search in the JavaScript engine's native BigInt
/// (about 8× faster than BouncyCastle interpreted in WebAssembly; docs/benchmarks.md, "Browser"), Paillier decryption
/// (never needed by the client) from the managed backend. Variable-time, like the managed backend: JS BigInt arithmetic gives no timing guarantee (the module uses a
/// fixed window, so the sequence of squarings and multiplications does not depend on the exponent's bits).
/// </summary>
[SupportedOSPlatform("browser")]
public sealed class JsBigIntBackend : IBigNumBackend
{
    private readonly IBigNumBackend _managed;

    public JsBigIntBackend()
        : this(new ManagedBigNumBackend())
    {
    }

    internal JsBigIntBackend(IBigNumBackend managed) => _managed = managed;

    public string Name => "js-bigint";

    public bool IsConstantTime => false;

    public BigInteger ModPow(BigInteger value, BigInteger exponent, BigInteger modulus)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(exponent);
        ArgumentNullException.ThrowIfNull(modulus);
        if (modulus.SignValue <= 0 || !modulus.TestBit(0) || modulus.Equals(BigInteger.One) || exponent.SignValue < 0)
        {
            throw new ArgumentException("ModPow needs an odd modulus > 1 and an exponent ≥ 0.");
        }
        // JS BigInt's % keeps the dividend's sign: reduce here so the module only ever sees values in [0, modulus).
        BigInteger reduced = value.Mod(modulus);
        return new BigInteger(1, JsBigInt.ModPow(reduced.ToByteArrayUnsigned(), exponent.ToByteArrayUnsigned(), modulus.ToByteArrayUnsigned()));
    }

    // The prime searches run whole in JS: one exponentiation per candidate, hundreds of candidates per prime; from
    // here each would cross the interop boundary and BouncyCastle's radix conversion (docs/benchmarks.md, "Browser").
    public BigInteger GeneratePrime(int bits, bool blum) => new(1, JsBigInt.GeneratePrime(bits, blum));

    public BigInteger GenerateSafePrime(int bits) => new(1, JsBigInt.GenerateSafePrime(bits));

    public bool IsProbablePrime(BigInteger candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return candidate.SignValue > 0 && JsBigInt.IsProbablePrime(candidate.ToByteArrayUnsigned());
    }

    IPaillierDecryptionContext IBigNumBackend.CreateDecryptionContext(BigInteger p, BigInteger q) => _managed.CreateDecryptionContext(p, q);
}
