using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// The verifier's side of <see cref="SignCiphertextProof"/>: the server's check modulo one prime of its own Paillier
/// modulus (with the ring-Pedersen trapdoor it derived from that key), and the slower check from public values alone.
/// Both throw <see cref="MpcErrorCode.ProofFailed"/> naming the failed check.
/// </summary>
internal static class SignCiphertextVerifier
{
    /// <summary>The server's check with its <see cref="RingPedersenSecret"/> kept per loaded key (λ at hand).</summary>
    public static void VerifyWithSecret(
        SignCiphertextProof proof, EcCurve curve, PaillierPrivateKey key, RingPedersenSecret verifierSecret, BigInteger encryptedShare, BigInteger serverShare,
        BigInteger c3, ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, ReadOnlySpan<byte> binding)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(verifierSecret);
        ArgumentNullException.ThrowIfNull(serverShare);
        RingPedersenParameters parameters = verifierSecret.Parameters;
        RequireOwnModulus(key, parameters);
        if (!verifierSecret.P.Equals(key.P))
        {
            throw new ArgumentException("The ring-Pedersen secret is not the one derived from this Paillier key.", nameof(verifierSecret));
        }
        VerifyWithTrapdoor(proof, curve, key, parameters, parameters.T, verifierSecret.Lambda, encryptedShare, serverShare, c3, r2, x1Point, x2Point, context, binding);
    }

    /// <summary>The server's check deriving the trapdoor (t, λ) from its Paillier key.</summary>
    public static void VerifyWithKey(
        SignCiphertextProof proof, EcCurve curve, PaillierPrivateKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare, BigInteger? shareOrNull,
        BigInteger c3, ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, ReadOnlySpan<byte> binding)
    {
        ArgumentNullException.ThrowIfNull(verifierParameters);
        RequireOwnModulus(key, verifierParameters);
        (BigInteger t, BigInteger lambda) = RingPedersenSecret.DeriveTrapdoor(key);
        if (!t.Equals(verifierParameters.T))
        {
            throw new ArgumentException("The ring-Pedersen parameters are not the ones derived from this Paillier key.", nameof(verifierParameters));
        }
        VerifyWithTrapdoor(proof, curve, key, verifierParameters, t, lambda, encryptedShare, shareOrNull, c3, r2, x1Point, x2Point, context, binding);
    }

    private static void RequireOwnModulus(PaillierPrivateKey key, RingPedersenParameters verifierParameters)
    {
        if (!verifierParameters.N.Equals(key.PublicKey.N))
        {
            throw new ArgumentException("The server's c3 proof parameters live over its own Paillier modulus.", nameof(verifierParameters));
        }
    }

    /// <summary>
    /// The check itself, with the verifier's trapdoor (t, λ with s = t^λ) already at hand: a server that keeps its
    /// <see cref="RingPedersenSecret"/> per loaded key passes it here instead of deriving it again for every signature.
    /// </summary>
    private static void VerifyWithTrapdoor(
        SignCiphertextProof proof,
        EcCurve curve, PaillierPrivateKey key, RingPedersenParameters verifierParameters, BigInteger t, BigInteger lambda,
        BigInteger encryptedShare, BigInteger? shareOrNull, BigInteger c3, ECPoint r2, ECPoint x1Point, ECPoint x2Point,
        ProofContext context, ReadOnlySpan<byte> binding)
    {
        PaillierPublicKey publicKey = key.PublicKey;
        var modP = new OnePrimeArithmetic(key);
        var checks = new SignCiphertextChecks(curve, publicKey, verifierParameters, encryptedShare, c3, r2, x1Point, x2Point, context, key.IsUnit);
        // t is derived (τ², a unit) and s enters only the transcript here, so the parameters' own gcd checks are skipped.
        BigInteger e = checks.Prepare(proof, binding, validateParameters: false);
        BigInteger n = publicKey.N;
        BigInteger x1 = shareOrNull ?? key.Decrypt(encryptedShare);

        // Every equation is checked modulo ONE prime p of N (mod p² for the Paillier one): all its values are public, so
        // one that holds mod p but not mod N gives its prover gcd(lhs − rhs, N) = p (docs/protocol.md, "one prime").
        // Paillier, mod p²: u = C^z1·(1+N)^z2·w^N·(A·D^e)⁻¹ is 1 exactly when u ≡ 1 (mod p) and Dec_p(u) = 0, and
        // Dec_p(C^z1·(1+N)^z2·w^N) = z1·x1 + z2 (w^N has plaintext 0), so: Y = A·D^e with Dec(Y) ≡ z1·x1 + z2 and
        // Y ≡ C^z1·w^N (mod p) ((1+N) ≡ 1 mod p). One exponentiation mod p² (Y^(p−1)) instead of a decryption.
        (BigInteger yPlaintext, BigInteger yModP) = key.DecryptProductModP(proof.A, c3, e);
        (BigInteger cPower, BigInteger wPower) = modP.PowPairPublic(encryptedShare, proof.Z1, proof.W, n);
        if (!yModP.Equals(modP.Multiply(cPower, wPower)) || !yPlaintext.Equals(modP.Reduce(proof.Z1.Multiply(x1).Add(proof.Z2).Mod(n))))
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "Paillier equality C^z1·(1+N)^z2·w^N ≡ A·D^e");
        }
        checks.Group(proof, e);
        // Ring-Pedersen mod p with s = t^λ: s^z·t^z' = t^(λz+z'); both equations' powers of t in one call; S^e and T^e with
        // the 128-bit e as it is (public), not padded to p's length.
        (BigInteger first, BigInteger second) = modP.PowPair(t, lambda.Multiply(proof.Z1).Add(proof.Z3), t, lambda.Multiply(proof.Z2).Add(proof.Z4));
        (BigInteger sPower, BigInteger tPower) = modP.PowPairPublicExponents(proof.S, e, proof.T, e);
        if (!first.Equals(modP.Multiply(modP.Reduce(proof.E), sPower)))
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "ring-Pedersen equality s^z1·t^z3 ≡ E·S^e");
        }
        if (!second.Equals(modP.Multiply(modP.Reduce(proof.F), tPower)))
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "ring-Pedersen equality s^z2·t^z4 ≡ F·T^e");
        }
    }

    /// <summary>
    /// The same check with public values only (no factorisation): several times slower than the server's one-prime check. For tests,
    /// benchmarks and a client that wants to check its own proof; any verifier parameters (N̂, s, t) work.
    /// </summary>
    public static void VerifyPublic(
        SignCiphertextProof proof,
        EcCurve curve, PaillierPublicKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare, BigInteger c3,
        ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, ReadOnlySpan<byte> binding)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(verifierParameters);
        BigInteger n = key.N;
        var checks = new SignCiphertextChecks(curve, key, verifierParameters, encryptedShare, c3, r2, x1Point, x2Point, context,
            value => NumericsArithmetic.AreCoprime(value, n));
        BigInteger e = checks.Prepare(proof, binding, validateParameters: true);
        IBigNumBackend backend = key.Backend;
        BigInteger nSquared = key.NSquared, nHat = verifierParameters.N;
        BigInteger left = backend.ModMultiply(
            backend.ModMultiply(backend.ModPowSigned(encryptedShare, proof.Z1, nSquared), key.GPow(proof.Z2), nSquared),
            backend.ModPow(proof.W, n, nSquared),
            nSquared);
        BigInteger right = backend.ModMultiply(proof.A, backend.ModPow(c3, e, nSquared), nSquared);
        if (!left.Equals(right))
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "Paillier equality C^z1·(1+N)^z2·w^N ≡ A·D^e");
        }
        checks.Group(proof, e);
        BigInteger s = verifierParameters.S, t = verifierParameters.T;
        if (!SignCiphertextRandomness.Commit(backend, s, proof.Z1, t, proof.Z3, nHat).Equals(backend.ModMultiply(proof.E, backend.ModPow(proof.S, e, nHat), nHat)))
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "ring-Pedersen equality s^z1·t^z3 ≡ E·S^e");
        }
        if (!SignCiphertextRandomness.Commit(backend, s, proof.Z2, t, proof.Z4, nHat).Equals(backend.ModMultiply(proof.F, backend.ModPow(proof.T, e, nHat), nHat)))
        {
            throw Error.ProofFailed(SignCiphertextProof.Name, "ring-Pedersen equality s^z2·t^z4 ≡ F·T^e");
        }
    }
}
