using Mpc.Crypto.BigNum;
using Mpc.Crypto.Encoding;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Paillier;

/// <summary>
/// A Paillier secret key: N = p·q with p ≡ q ≡ 3 (mod 4) (a Paillier–Blum modulus, as the modulus proof
/// requires). Decryption and the key owner's encryptions use the CRT. As sensitive as the key share:
/// never logged, never serialised unencrypted.
/// </summary>
public sealed class PaillierPrivateKey : IDisposable
{
    private BigInteger _p;
    private BigInteger _q;
    private readonly IPaillierDecryptionContext _context;
    private bool _disposed;

    private PaillierPrivateKey(BigInteger p, BigInteger q, IBigNumBackend backend)
    {
        _p = p;
        _q = q;
        PublicKey = new PaillierPublicKey(p.Multiply(q), backend);
        // Every value derived from p and q (p², q², h_p, h_q, the inverses, N mod φ) lives in the backend's
        // context: native and constant-time on OpenSSL, built once per key, wiped by Dispose.
        _context = backend.CreateDecryptionContext(p, q);
    }

    public PaillierPublicKey PublicKey { get; }

    internal BigInteger P => Live(_p);

    internal BigInteger Q => Live(_q);

    /// <summary>φ(N) = (p-1)(q-1).</summary>
    internal BigInteger Phi => Live(_p).Subtract(BigInteger.One).Multiply(_q.Subtract(BigInteger.One));

    /// <summary>Generates a key with a modulus of exactly <paramref name="modulusBits"/> bits (even, from 2048, the default, to 4096).</summary>
    public static PaillierPrivateKey Generate(IBigNumBackend backend, int modulusBits = 2048)
    {
        if (modulusBits < PaillierPublicKey.MinimumModulusBits)
        {
            throw Error.Of(MpcErrorCode.PaillierModulusTooSmall,
                $"Paillier modulus of {modulusBits} bits refused; at least {PaillierPublicKey.MinimumModulusBits} are required.");
        }
        if (modulusBits > PaillierPublicKey.MaximumModulusBits || modulusBits % 2 != 0)
        {
            throw Error.Of(MpcErrorCode.InvalidPaillierModulus,
                $"Paillier modulus size must be even and at most {PaillierPublicKey.MaximumModulusBits} bits.");
        }
        int primeBits = modulusBits / 2;
        while (true)
        {
            BigInteger p = backend.GeneratePrime(primeBits, blum: true);
            BigInteger q = backend.GeneratePrime(primeBits, blum: true);
            // Top two bits set on both primes gives an exact-size N; a tiny |p - q| would allow Fermat factoring.
            if (p.Subtract(q).Abs().BitLength > primeBits - 100 && p.Multiply(q).BitLength == modulusBits)
            {
                return new PaillierPrivateKey(p, q, backend);
            }
        }
    }

    /// <summary>Builds a key from given primes without checking them: tests use it to forge malformed moduli.</summary>
    internal static PaillierPrivateKey FromPrimesUnchecked(BigInteger p, BigInteger q, IBigNumBackend backend) => new(p, q, backend);

    /// <summary>
    /// Writes the primes for encrypted storage (AEAD-protected by the caller), straight into the writer's buffer:
    /// use a writer from <see cref="WireWriter.ToSecretArray"/>, which never grows and is zeroed.
    /// </summary>
    public void WriteSecretTo(WireWriter writer) => writer.WriteBigInteger(P).WriteBigInteger(Q);

    /// <summary>Reads what <see cref="WriteSecretTo"/> wrote, with the structural checks that are cheap.</summary>
    public static PaillierPrivateKey ReadSecretFrom(ref WireReader reader, IBigNumBackend backend)
    {
        int maxPrimeBits = PaillierPublicKey.MaximumModulusBits / 2;
        BigInteger p = reader.ReadBigInteger("Paillier p", maxPrimeBits);
        BigInteger q = reader.ReadBigInteger("Paillier q", maxPrimeBits);
        if (p.SignValue <= 0 || q.SignValue <= 0 || p.Equals(q) || !p.TestBit(1) || !q.TestBit(1) || !p.TestBit(0) || !q.TestBit(0))
        {
            throw Error.Malformed("stored Paillier primes are not distinct Blum primes");
        }
        return new PaillierPrivateKey(p, q, backend);
    }

    /// <summary>
    /// Requires a ciphertext in Z*_{N²}, like <see cref="PaillierPublicKey.RequireCiphertext"/>, but with the
    /// factors: gcd(c, N) = 1 exactly when neither p nor q divides c, and two remainders are far cheaper than a gcd.
    /// The remainders by the secret primes are taken inside the backend's context (constant-time on OpenSSL).
    /// </summary>
    public void RequireCiphertext(BigInteger ciphertext, string field)
    {
        RequireRange(ciphertext, field);
        if (!Live(_context).IsUnit(ciphertext))
        {
            throw Error.Of(MpcErrorCode.InvalidCiphertext, $"{field} is not a unit modulo N².");
        }
    }

    /// <summary>
    /// Decrypts a ciphertext in Z*_{N²} (checked, before any exponentiation) to a plaintext in [0, N). On the
    /// OpenSSL backend the whole computation runs in libcrypto's constant-time routines.
    /// </summary>
    public BigInteger Decrypt(BigInteger ciphertext)
    {
        IPaillierDecryptionContext context = Live(_context);
        RequireRange(ciphertext, "ciphertext");
        return context.Decrypt(ciphertext);
    }

    /// <summary>
    /// (Dec(y) mod p, y mod p) for y = a·c^e, computed mod p² only, for a public exponent e ≥ 0: the c3 proof's Paillier
    /// check, which looks at one prime (see <see cref="Mpc.Crypto.Proofs.OnePrimeArithmetic"/>). Both a and c are
    /// checked to be in range and units mod p first.
    /// </summary>
    internal (BigInteger PlaintextModP, BigInteger ProductModP) DecryptProductModP(BigInteger a, BigInteger c, BigInteger e)
    {
        IPaillierDecryptionContext context = Live(_context);
        RequireRange(a, "A");
        RequireRange(c, "ciphertext");
        if (e.SignValue < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(e), "DecryptProductModP takes a non-negative exponent.");
        }
        return context.DecryptProductModP(a, c, e);
    }

    /// <summary>(first^firstExponent mod p, second^secondExponent mod p), values and exponents ≥ 0.</summary>
    internal (BigInteger First, BigInteger Second) PowPairModP(BigInteger first, BigInteger firstExponent, BigInteger second, BigInteger secondExponent)
    {
        if (first.SignValue < 0 || second.SignValue < 0 || firstExponent.SignValue < 0 || secondExponent.SignValue < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(first), "PowPairModP takes non-negative values.");
        }
        return Live(_context).PowPairModP(first, firstExponent, second, secondExponent);
    }

    /// <summary>value mod p (value ≥ 0), by the backend (constant-time on OpenSSL).</summary>
    internal BigInteger ReduceModP(BigInteger value) =>
        value.SignValue < 0 ? throw new ArgumentOutOfRangeException(nameof(value)) : Live(_context).ReduceModP(value);

    /// <summary>left·right mod p (both ≥ 0), by the backend.</summary>
    internal BigInteger MultiplyModP(BigInteger left, BigInteger right) =>
        left.SignValue < 0 || right.SignValue < 0 ? throw new ArgumentOutOfRangeException(nameof(left)) : Live(_context).MultiplyModP(left, right);

    /// <summary>Whether value (in [0, N²)) is a unit mod N: two remainders by the secret primes instead of a gcd.</summary>
    internal bool IsUnit(BigInteger value) => value.SignValue > 0 && Live(_context).IsUnit(value);

    /// <summary>r^N mod N² through the CRT: about three times faster than the public-key path.</summary>
    internal BigInteger NoncePower(BigInteger nonce) => Live(_context).NoncePower(nonce);

    /// <summary>Encrypts with a known nonce using the CRT; the result equals <see cref="PaillierPublicKey.EncryptWithNonce"/>.</summary>
    public BigInteger EncryptWithNonce(BigInteger plaintext, BigInteger nonce) =>
        PublicKey.Backend.ModMultiply(PublicKey.GPow(plaintext), NoncePower(nonce), PublicKey.NSquared);

    /// <summary>
    /// Wipes and frees every CRT value (the backend context; native memory through BN_clear_free on OpenSSL)
    /// and drops the references to the primes. BouncyCastle's immutable BigInteger cannot be wiped in place;
    /// long-lived storage must hold the primes in encrypted form (see docs/protocol.md).
    /// </summary>
    public void Dispose()
    {
        _disposed = true;
        _p = BigInteger.Zero;
        _q = BigInteger.Zero;
        _context.Dispose();
    }

    public override string ToString() => $"PaillierPrivateKey({PublicKey.BitLength} bits)";

    private T Live<T>(T value) =>
        _disposed ? throw new ObjectDisposedException(nameof(PaillierPrivateKey)) : value;

    private void RequireRange(BigInteger ciphertext, string field)
    {
        if (ciphertext.SignValue <= 0 || ciphertext.CompareTo(PublicKey.NSquared) >= 0)
        {
            throw Error.Of(MpcErrorCode.InvalidCiphertext, $"{field} is outside [1, N²).");
        }
    }
}
