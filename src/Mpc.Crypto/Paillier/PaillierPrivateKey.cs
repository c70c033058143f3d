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
    private readonly BigInteger _pSquared;
    private readonly BigInteger _qSquared;
    private readonly BigInteger _hp;
    private readonly BigInteger _hq;
    private readonly BigInteger _qInverseModP;
    private readonly BigInteger _qSquaredInverseModPSquared;
    private readonly BigInteger _nModPhiPSquared;
    private readonly BigInteger _nModPhiQSquared;
    private bool _disposed;

    private PaillierPrivateKey(BigInteger p, BigInteger q, IBigNumBackend backend)
    {
        _p = p;
        _q = q;
        PublicKey = new PaillierPublicKey(p.Multiply(q), backend);
        _pSquared = p.Multiply(p);
        _qSquared = q.Multiply(q);
        // With g = N + 1, L_p(g^(p-1) mod p²) = (p-1)·q mod p, so hp is its inverse.
        _hp = p.Subtract(BigInteger.One).Multiply(q).ModInverse(p);
        _hq = q.Subtract(BigInteger.One).Multiply(p).ModInverse(q);
        _qInverseModP = q.ModInverse(p);
        _qSquaredInverseModPSquared = _qSquared.ModInverse(_pSquared);
        _nModPhiPSquared = PublicKey.N.Mod(p.Multiply(p.Subtract(BigInteger.One)));
        _nModPhiQSquared = PublicKey.N.Mod(q.Multiply(q.Subtract(BigInteger.One)));
    }

    public PaillierPublicKey PublicKey { get; }

    internal BigInteger P => Live(_p);

    internal BigInteger Q => Live(_q);

    /// <summary>φ(N) = (p-1)(q-1).</summary>
    internal BigInteger Phi => Live(_p).Subtract(BigInteger.One).Multiply(_q.Subtract(BigInteger.One));

    /// <summary>Generates a key with a modulus of exactly <paramref name="modulusBits"/> bits (2048 by default, 3072 available).</summary>
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

    /// <summary>Writes the primes for encrypted storage (AEAD-protected by the caller).</summary>
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
    /// </summary>
    public void RequireCiphertext(BigInteger ciphertext, string field)
    {
        if (ciphertext.SignValue <= 0 || ciphertext.CompareTo(PublicKey.NSquared) >= 0)
        {
            throw Error.Of(MpcErrorCode.InvalidCiphertext, $"{field} is outside [1, N²).");
        }
        if (ciphertext.Mod(P).SignValue == 0 || ciphertext.Mod(Q).SignValue == 0)
        {
            throw Error.Of(MpcErrorCode.InvalidCiphertext, $"{field} is not a unit modulo N².");
        }
    }

    /// <summary>Decrypts a ciphertext in Z*_{N²} (checked) to a plaintext in [0, N).</summary>
    public BigInteger Decrypt(BigInteger ciphertext)
    {
        RequireCiphertext(ciphertext, "ciphertext");
        BigInteger p = P, q = Q;
        IBigNumBackend backend = PublicKey.Backend;
        BigInteger mp = L(backend.ModPow(ciphertext.Mod(_pSquared), p.Subtract(BigInteger.One), _pSquared), p).Multiply(_hp).Mod(p);
        BigInteger mq = L(backend.ModPow(ciphertext.Mod(_qSquared), q.Subtract(BigInteger.One), _qSquared), q).Multiply(_hq).Mod(q);
        return mq.Add(q.Multiply(mp.Subtract(mq).Multiply(_qInverseModP).Mod(p)));
    }

    /// <summary>r^N mod N² through the CRT: about three times faster than the public-key path.</summary>
    internal BigInteger NoncePower(BigInteger nonce)
    {
        IBigNumBackend backend = PublicKey.Backend;
        BigInteger rp = backend.ModPow(nonce.Mod(_pSquared), _nModPhiPSquared, _pSquared);
        BigInteger rq = backend.ModPow(nonce.Mod(_qSquared), _nModPhiQSquared, _qSquared);
        return rq.Add(_qSquared.Multiply(rp.Subtract(rq).Multiply(_qSquaredInverseModPSquared).Mod(_pSquared)));
    }

    /// <summary>Encrypts with a known nonce using the CRT; the result equals <see cref="PaillierPublicKey.EncryptWithNonce"/>.</summary>
    public BigInteger EncryptWithNonce(BigInteger plaintext, BigInteger nonce) =>
        PublicKey.Backend.ModMultiply(PublicKey.GPow(plaintext), NoncePower(nonce), PublicKey.NSquared);

    /// <summary>
    /// Drops the references to the primes. BouncyCastle's immutable BigInteger cannot be wiped in place;
    /// long-lived storage must hold the primes in encrypted form (see docs/protocol.md).
    /// </summary>
    public void Dispose()
    {
        _p = BigInteger.Zero;
        _q = BigInteger.Zero;
        _disposed = true;
    }

    public override string ToString() => $"PaillierPrivateKey({PublicKey.BitLength} bits)";

    private BigInteger Live(BigInteger value) =>
        _disposed ? throw new ObjectDisposedException(nameof(PaillierPrivateKey)) : value;

    private static BigInteger L(BigInteger x, BigInteger n) => x.Subtract(BigInteger.One).Divide(n);
}
