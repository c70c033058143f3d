using System.Runtime.Versioning;
using System.Security.Cryptography;
using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Utilities;

namespace Mpc.Browser;

/// <summary>
/// The browser's big-number backend: modular exponentiation and prime search in the JavaScript engine's native BigInt
/// (about 8× faster than BouncyCastle interpreted in WebAssembly; docs/benchmarks.md, "Browser"), Paillier decryption
/// (never needed by the client) from the managed backend. Variable-time, like the managed backend: JS BigInt arithmetic
/// gives no timing guarantee. What the module does promise: handed an exponent padded to a public length, its fixed
/// window runs the same squarings and multiplications, on operands of the same length, for every exponent up to that
/// length. <see cref="ModPowSecret"/> pads to the secret's range (the c3 prover's α, β and masks); <see cref="ModPow"/>,
/// told nothing, to the modulus' length (sound but dear: a 256-bit α so padded mod a 4096-bit N² would cost 143 ms in
/// Node instead of 9); an exponent longer than its padding keeps its own byte length, which shows. The public-exponent
/// batch calls are not padded.
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
        // The exponent may be secret (the c3 prover's α, β and masks) and the backend is not told its range, so it is
        // padded to the modulus' byte length: the module reads all the bytes it is handed, so the window count no
        // longer tells the exponent's length.
        byte[] modulusBytes = modulus.ToByteArrayUnsigned();
        byte[] exponentBytes = BigIntegers.AsUnsignedByteArray(Math.Max(modulusBytes.Length, BigIntegers.GetUnsignedByteLength(exponent)), exponent);
        try
        {
            return Power(value, exponentBytes, modulus, modulusBytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(exponentBytes);
        }
    }

    /// <summary>
    /// For a secret exponent from a public range (the c3 prover's α, β and masks): padded to that range's length (or
    /// the exponent's own, should a dishonest caller exceed it) instead of the modulus', so C^α mod N² costs α's 256
    /// bits, not N²'s 4096.
    /// </summary>
    public BigInteger ModPowSecret(BigInteger value, BigInteger exponent, BigInteger modulus, int exponentBits)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(exponent);
        ArgumentNullException.ThrowIfNull(modulus);
        BigNumGuards.CheckModPowArguments(exponent, modulus);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exponentBits);
        byte[] exponentBytes = BigIntegers.AsUnsignedByteArray(Math.Max((exponentBits + 7) / 8, BigIntegers.GetUnsignedByteLength(exponent)), exponent);
        try
        {
            return Power(value, exponentBytes, modulus, modulus.ToByteArrayUnsigned());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(exponentBytes);
        }
    }

    /// <summary>Public bases and exponents (a verifier's): not padded, so a 128-bit challenge costs 128 bits, not the modulus'.</summary>
    public BigInteger[] PublicFixedBasePowMany(BigInteger value, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(exponents);
        BigNumGuards.CheckModPowManyArguments(Enumerable.Repeat(value, exponents.Count).ToArray(), exponents, modulus);
        byte[] modulusBytes = modulus.ToByteArrayUnsigned();
        return exponents.Select(exponent => Power(value, exponent.ToByteArrayUnsigned(), modulus, modulusBytes)).ToArray();
    }

    /// <summary>Public bases and exponents only (a verifier's batch check): not padded, like <see cref="PublicFixedBasePowMany"/>.</summary>
    public BigInteger PublicProductOfPowers(IReadOnlyList<BigInteger> values, IReadOnlyList<BigInteger> exponents, BigInteger modulus)
    {
        BigNumGuards.CheckModPowManyArguments(values, exponents, modulus);
        byte[] modulusBytes = modulus.ToByteArrayUnsigned();
        BigInteger product = BigInteger.One;
        for (int i = 0; i < values.Count; i++)
        {
            product = ((IBigNumBackend)this).ModMultiply(product, Power(values[i], exponents[i].ToByteArrayUnsigned(), modulus, modulusBytes), modulus);
        }
        return product;
    }

    private static BigInteger Power(BigInteger value, byte[] exponentBytes, BigInteger modulus, byte[] modulusBytes)
    {
        // JS BigInt's % keeps the dividend's sign: reduce here so the module only ever sees values in [0, modulus).
        BigInteger reduced = value.Mod(modulus);
        return new BigInteger(1, JsBigInt.ModPow(reduced.ToByteArrayUnsigned(), exponentBytes, modulusBytes));
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
