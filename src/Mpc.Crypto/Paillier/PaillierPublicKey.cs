using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;
using RandomNumberGenerator = System.Security.Cryptography.RandomNumberGenerator;

namespace Mpc.Crypto.Paillier;

/// <summary>
/// A Paillier public key with generator g = N + 1. Construction checks only size and parity; that N is
/// a well-formed product of two large primes is what the modulus proofs establish.
/// </summary>
public sealed class PaillierPublicKey
{
    /// <summary>Smaller moduli break the range assumptions the protocol rests on (Alpha-Rays).</summary>
    public const int MinimumModulusBits = 2048;

    /// <summary>Upper bound so a peer cannot make us work on absurd numbers.</summary>
    public const int MaximumModulusBits = 4096;

    public PaillierPublicKey(BigInteger n, IBigNumBackend backend)
    {
        if (n.SignValue <= 0 || !n.TestBit(0))
        {
            throw Error.Of(MpcErrorCode.InvalidPaillierModulus, "Paillier modulus must be a positive odd integer.");
        }
        if (n.BitLength < MinimumModulusBits)
        {
            throw Error.Of(MpcErrorCode.PaillierModulusTooSmall,
                $"Paillier modulus has {n.BitLength} bits; at least {MinimumModulusBits} are required.");
        }
        if (n.BitLength > MaximumModulusBits)
        {
            throw Error.Of(MpcErrorCode.InvalidPaillierModulus, $"Paillier modulus exceeds {MaximumModulusBits} bits.");
        }
        N = n;
        NSquared = n.Multiply(n);
        Backend = backend;
    }

    public BigInteger N { get; }

    public BigInteger NSquared { get; }

    public int BitLength => N.BitLength;

    public IBigNumBackend Backend { get; }

    /// <summary>Encrypts with fresh randomness (one r^N exponentiation).</summary>
    public BigInteger Encrypt(BigInteger plaintext) => Encrypt(plaintext, CreateRandomness());

    /// <summary>Encrypts with precomputed single-use randomness: one multiplication on the hot path.</summary>
    public BigInteger Encrypt(BigInteger plaintext, PaillierRandomness randomness)
    {
        BigInteger rToN = randomness.Consume(N);
        return Backend.ModMultiply(GPow(plaintext), rToN, NSquared);
    }

    /// <summary>(1 + mN)·r^N mod N² for a given r: the form proofs need to recompute.</summary>
    public BigInteger EncryptWithNonce(BigInteger plaintext, BigInteger nonce) =>
        Backend.ModMultiply(GPow(plaintext), Backend.ModPowPublicExponent(nonce, N, NSquared), NSquared);

    /// <summary>Draws r ∈ Z*_N and computes r^N mod N²: the expensive, precomputable part of encryption.</summary>
    public PaillierRandomness CreateRandomness() => new(N, Backend.ModPowPublicExponent(RandomUnit(), N, NSquared));

    /// <summary>Homomorphic addition: Enc(a)·Enc(b) = Enc(a + b).</summary>
    public BigInteger Add(BigInteger left, BigInteger right) => Backend.ModMultiply(left.Mod(NSquared), right.Mod(NSquared), NSquared);

    /// <summary>Homomorphic scalar multiplication: Enc(a)^k = Enc(k·a), for k ≥ 0.</summary>
    public BigInteger Multiply(BigInteger ciphertext, BigInteger scalar) => Backend.ModPow(ciphertext, scalar, NSquared);

    /// <summary>(1 + N)^m mod N² = 1 + (m mod N)·N, already below N², for any integer m (negative m wraps mod N).</summary>
    public BigInteger GPow(BigInteger plaintext) => BigInteger.One.Add(plaintext.Mod(N).Multiply(N));

    /// <summary>Requires a ciphertext in Z*_{N²}: 0 &lt; c &lt; N² and gcd(c, N) = 1.</summary>
    public void RequireCiphertext(BigInteger ciphertext, string field)
    {
        if (ciphertext.SignValue <= 0 || ciphertext.CompareTo(NSquared) >= 0)
        {
            throw Error.Of(MpcErrorCode.InvalidCiphertext, $"{field} is outside [1, N²).");
        }
        if (!NumericsArithmetic.AreCoprime(ciphertext, N))
        {
            throw Error.Of(MpcErrorCode.InvalidCiphertext, $"{field} is not a unit modulo N².");
        }
    }

    /// <summary>A uniformly random element of Z*_N from the platform CSPRNG.</summary>
    public BigInteger RandomUnit() => RandomUnit(N);

    internal static BigInteger RandomUnit(BigInteger modulus)
    {
        byte[] buffer = new byte[(modulus.BitLength + 128 + 7) / 8];
        try
        {
            while (true)
            {
                RandomNumberGenerator.Fill(buffer);
                BigInteger r = new BigInteger(1, buffer).Mod(modulus);
                if (r.SignValue > 0 && NumericsArithmetic.AreCoprime(r, modulus))
                {
                    return r;
                }
            }
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(buffer);
        }
    }

    public override string ToString() => $"PaillierPublicKey({BitLength} bits)";
}
