using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// Πlog* (CGGMP21, fig. 25): the Paillier ciphertext C = (1+N0)^x·ρ^N0 mod N0² encrypts the discrete logarithm x
/// of X = x·G, and x lies in ±2^(ℓ+ε) (ℓ = |q|, ε = 2ℓ). Proved by the Paillier key owner (the server, P1) about
/// c_key, against the VERIFIER's ring-Pedersen parameters.
/// </summary>
public sealed class EncryptedDlogProof
{
    public const string Name = "Πlog*";
    private const string Purpose = "encrypted-dlog/Πlog*";

    /// <summary>Longest SEC1 compressed point any supported curve produces (P-384: 49 bytes), with room to spare.</summary>
    private const int MaxPointLength = 1 + 66;

    private readonly byte[] _y;

    public EncryptedDlogProof(BigInteger s, BigInteger a, ReadOnlySpan<byte> y, BigInteger d, BigInteger z1, BigInteger z2, BigInteger z3)
    {
        S = s ?? throw new ArgumentNullException(nameof(s));
        A = a ?? throw new ArgumentNullException(nameof(a));
        _y = y.ToArray();
        D = d ?? throw new ArgumentNullException(nameof(d));
        Z1 = z1 ?? throw new ArgumentNullException(nameof(z1));
        Z2 = z2 ?? throw new ArgumentNullException(nameof(z2));
        Z3 = z3 ?? throw new ArgumentNullException(nameof(z3));
    }

    /// <summary>S = s^x·t^μ mod N̂.</summary>
    public BigInteger S { get; }

    /// <summary>A = (1+N0)^α·r^N0 mod N0².</summary>
    public BigInteger A { get; }

    /// <summary>Y = α·G, SEC1 compressed.</summary>
    public ReadOnlyMemory<byte> Y => _y;

    /// <summary>D = s^α·t^γ mod N̂.</summary>
    public BigInteger D { get; }

    /// <summary>z1 = α + e·x: the range-checked response.</summary>
    public BigInteger Z1 { get; }

    /// <summary>z2 = r·ρ^e mod N0.</summary>
    public BigInteger Z2 { get; }

    /// <summary>z3 = γ + e·μ.</summary>
    public BigInteger Z3 { get; }

    /// <summary>
    /// Proves that <paramref name="ciphertext"/> = Enc(<paramref name="x"/>; <paramref name="nonce"/>) under
    /// <paramref name="key"/> and that X = x·G, with x in range.
    /// </summary>
    public static EncryptedDlogProof Prove(
        EcCurve curve, PaillierPrivateKey key, BigInteger ciphertext, BigInteger x, BigInteger nonce,
        RingPedersenParameters verifierParameters, ProofContext context)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(ciphertext);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(nonce);
        ArgumentNullException.ThrowIfNull(verifierParameters);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Curve != curve.Kind)
        {
            throw new ArgumentException("The proof context names another curve.", nameof(context));
        }
        verifierParameters.Validate();
        PaillierPublicKey publicKey = key.PublicKey;
        IBigNumBackend backend = publicKey.Backend;
        BigInteger n0 = publicKey.N;
        BigInteger nHat = verifierParameters.N, s = verifierParameters.S, t = verifierParameters.T;
        if (!key.EncryptWithNonce(x, nonce).Equals(ciphertext))
        {
            throw new ArgumentException("The ciphertext is not the encryption of x under the nonce.", nameof(ciphertext));
        }
        int ell = ProofParameters.Ell(curve), epsilon = ProofParameters.Epsilon(curve);

        BigInteger alpha = ProofRandom.SignedBits(ell + epsilon);
        BigInteger mu = ProofRandom.SignedBits(ell, nHat);
        BigInteger r = PaillierPublicKey.RandomUnit(n0);
        BigInteger gamma = ProofRandom.SignedBits(ell + epsilon, nHat);

        ECPoint bigX = curve.MultiplyBase(x);
        BigInteger bigS = Commit(backend, s, x, t, mu, nHat);
        BigInteger bigA = key.EncryptWithNonce(alpha, r);
        byte[] bigY = curve.EncodePoint(curve.MultiplyBase(alpha));
        BigInteger bigD = Commit(backend, s, alpha, t, gamma, nHat);

        BigInteger e = Challenge(curve, n0, ciphertext, bigX, verifierParameters, bigS, bigA, bigY, bigD, context);
        return new EncryptedDlogProof(
            bigS, bigA, bigY, bigD,
            z1: alpha.Add(e.Multiply(x)),
            z2: backend.ModMultiply(r, backend.ModPowPublicExponent(nonce, e, n0), n0),
            z3: gamma.Add(e.Multiply(mu)));
    }

    /// <summary>
    /// Verifies that <paramref name="ciphertext"/> encrypts the discrete log of <paramref name="X"/>, in range; throws on
    /// failure. With <paramref name="verifierSecret"/> (the trapdoor of the verifier's own parameters) the ring-Pedersen
    /// equality is checked modulo one of its primes as t^(λz1+z3) ≡ D·S^e (docs/protocol.md).
    /// </summary>
    public void Verify(
        EcCurve curve, PaillierPublicKey key, BigInteger ciphertext, ECPoint X,
        RingPedersenParameters verifierParameters, ProofContext context, RingPedersenSecret? verifierSecret = null)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(ciphertext);
        ArgumentNullException.ThrowIfNull(X);
        ArgumentNullException.ThrowIfNull(verifierParameters);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Curve != curve.Kind)
        {
            throw Error.ProofFailed(Name, "the context names another curve");
        }
        verifierSecret?.RequireParameters(verifierParameters, nameof(verifierSecret));
        verifierParameters.Validate();
        IBigNumBackend backend = key.Backend;
        BigInteger n0 = key.N, n0Squared = key.NSquared;
        BigInteger nHat = verifierParameters.N, s = verifierParameters.S, t = verifierParameters.T;
        int ell = ProofParameters.Ell(curve), epsilon = ProofParameters.Epsilon(curve);

        key.RequireCiphertext(ciphertext, "Πlog* statement ciphertext C");
        curve.ValidatePoint(X, "Πlog* statement point X");
        if (!ProofMath.IsUnitBelow(A, n0Squared))
        {
            throw Error.ProofFailed(Name, "A is not in Z*_{N0²}");
        }
        if (!ProofMath.IsUnitBelow(S, nHat))
        {
            throw Error.ProofFailed(Name, "S is not a unit in [1, N̂)");
        }
        if (!ProofMath.IsUnitBelow(D, nHat))
        {
            throw Error.ProofFailed(Name, "D is not a unit in [1, N̂)");
        }
        ECPoint bigY = curve.DecodePoint(_y, "Πlog* Y");
        if (!ProofMath.IsUnitBelow(Z2, n0))
        {
            throw Error.ProofFailed(Name, "z2 is not a unit in [1, N0)");
        }
        if (Z1.Abs().CompareTo(BigInteger.One.ShiftLeft(ell + epsilon)) > 0)
        {
            throw Error.ProofFailed(Name, "range check: |z1| exceeds 2^(ℓ+ε)");
        }
        if (Z3.BitLength > Bounds.Z3(ell, nHat.BitLength))
        {
            throw Error.ProofFailed(Name, "z3 is too large");
        }

        BigInteger e = Challenge(curve, n0, ciphertext, X, verifierParameters, S, A, _y, D, context);
        // The three equalities are independent: all cores; the first failing one in order is reported.
        int failed = ProofParallel.FirstFailure(3, i => i switch
        {
            0 => backend.ModMultiply(key.GPow(Z1), backend.ModPowPublicExponent(Z2, n0, n0Squared), n0Squared)
                .Equals(backend.ModMultiply(A, backend.ModPowPublicExponent(ciphertext, e, n0Squared), n0Squared)),
            1 => curve.MultiplyBase(Z1).Equals(bigY.Add(X.Multiply(e)).Normalize()),
            _ => verifierSecret is null
                ? Commit(backend, s, Z1, t, Z3, nHat).Equals(backend.ModMultiply(D, backend.ModPowPublicExponent(S, e, nHat), nHat))
                : RingPedersenHoldsModOwnPrime(verifierSecret, e),
        });
        switch (failed)
        {
            case 0:
                throw Error.ProofFailed(Name, "Paillier equality (1+N0)^z1·z2^N0 ≡ A·C^e");
            case 1:
                throw Error.ProofFailed(Name, "group equality z1·G = Y + e·X");
            case 2:
                throw Error.ProofFailed(Name, "ring-Pedersen equality s^z1·t^z3 ≡ D·S^e");
        }
    }

    private bool RingPedersenHoldsModOwnPrime(RingPedersenSecret secret, BigInteger e)
    {
        BigInteger[] powers = secret.PowsModP([secret.Parameters.T, S], [secret.CommitmentExponent(Z1, Z3), e]);
        return powers[0].Equals(secret.MultiplyModP(D, powers[1]));
    }

    public void WriteTo(WireWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteBigInteger(S).WriteBigInteger(A).WriteBytes(_y).WriteBigInteger(D)
            .WriteBigInteger(Z1).WriteBigInteger(Z2).WriteBigInteger(Z3);
    }

    /// <summary>Reads a proof for <paramref name="curve"/>, bounding every integer by the largest accepted moduli.</summary>
    public static EncryptedDlogProof ReadFrom(
        ref WireReader r,
        EcCurve curve,
        int maxPaillierBits = PaillierPublicKey.MaximumModulusBits,
        int maxRingPedersenBits = ProofParameters.RingPedersenMaximumBits)
    {
        ArgumentNullException.ThrowIfNull(curve);
        int ell = ProofParameters.Ell(curve), epsilon = ProofParameters.Epsilon(curve);
        BigInteger s = r.ReadBigInteger("Πlog* S", maxRingPedersenBits);
        BigInteger a = r.ReadBigInteger("Πlog* A", 2 * maxPaillierBits);
        byte[] y = r.ReadByteArray("Πlog* Y", maxLength: MaxPointLength);
        BigInteger d = r.ReadBigInteger("Πlog* D", maxRingPedersenBits);
        BigInteger z1 = r.ReadBigInteger("Πlog* z1", ell + epsilon + 1);
        BigInteger z2 = r.ReadBigInteger("Πlog* z2", maxPaillierBits);
        BigInteger z3 = r.ReadBigInteger("Πlog* z3", Bounds.Z3(ell, maxRingPedersenBits));
        return new EncryptedDlogProof(s, a, y, d, z1, z2, z3);
    }

    public override string ToString() => "EncryptedDlogProof";

    private static class Bounds
    {
        /// <summary>|z3| ≤ 2^(ℓ+ε)·N̂ + 2^(2ℓ)·N̂ &lt; 2^(ℓ+ε+1)·N̂, with one bit of slack.</summary>
        public static int Z3(int ell, int ringPedersenBits) => ell + 2 * ell + ringPedersenBits + 2;
    }

    private static BigInteger Challenge(
        EcCurve curve, BigInteger n0, BigInteger ciphertext, ECPoint x, RingPedersenParameters parameters,
        BigInteger s, BigInteger a, ReadOnlySpan<byte> y, BigInteger d, ProofContext context) =>
        Transcript.Start(Purpose, context)
            .Append("Πlog*/N0", n0)
            .Append("Πlog*/C", ciphertext)
            .Append("Πlog*/X", curve.EncodePoint(x))
            .Append("Πlog*/N̂", parameters.N)
            .Append("Πlog*/s", parameters.S)
            .Append("Πlog*/t", parameters.T)
            .Append("Πlog*/S", s)
            .Append("Πlog*/A", a)
            .Append("Πlog*/Y", y)
            .Append("Πlog*/D", d)
            .ChallengeBelow("Πlog*/e", curve.Order);

    /// <summary>g^a·h^b mod n for signed exponents.</summary>
    private static BigInteger Commit(IBigNumBackend backend, BigInteger g, BigInteger a, BigInteger h, BigInteger b, BigInteger n) =>
        backend.ModMultiply(backend.ModPowSigned(g, a, n), backend.ModPowSigned(h, b, n), n);
}
