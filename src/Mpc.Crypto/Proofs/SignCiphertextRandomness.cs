using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// The client's precomputed, single-use part of one c3 and its proof: the masks a, b, γ, δ, m, μ, the nonces r̃, ρ,
/// and everything that depends only on them and the key (A = C^a·(1+N)^b·r̃^N, E = s^a·t^γ, F = s^b·t^δ, t^m, t^μ,
/// ρ^N). About fifteen exponentiations, none of which needs the session, so a key can prepare them in the background.
/// Consumed by <see cref="SignCiphertextProof.EncryptAndProve"/>; a second use throws, because two proofs from one set
/// of masks reveal α and β.
/// </summary>
public sealed class SignCiphertextRandomness : IDisposable
{
    private readonly CurveKind _curve;
    private readonly BigInteger _modulus;
    private readonly BigInteger _encryptedShare;
    private readonly RingPedersenParameters _parameters;
    private Secrets? _secrets;

    private SignCiphertextRandomness(CurveKind curve, BigInteger modulus, BigInteger encryptedShare, RingPedersenParameters parameters, Secrets secrets)
    {
        _curve = curve;
        _modulus = modulus;
        _encryptedShare = encryptedShare;
        _parameters = parameters;
        _secrets = secrets;
    }

    public bool IsConsumed => Volatile.Read(ref _secrets) is null;

    /// <summary>
    /// Draws the masks and nonces from the CSPRNG and precomputes the commitments that do not depend on the session:
    /// for <paramref name="encryptedShare"/> = c_key under <paramref name="key"/>, against the server's
    /// <paramref name="verifierParameters"/> (checked by the caller with Πprm when they were received).
    /// </summary>
    public static SignCiphertextRandomness Create(EcCurve curve, PaillierPublicKey key, BigInteger encryptedShare, RingPedersenParameters verifierParameters)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(encryptedShare);
        ArgumentNullException.ThrowIfNull(verifierParameters);
        SignCiphertextProofParameters.RequirePaillierBits(curve, key.BitLength);
        verifierParameters.Validate();
        key.RequireCiphertext(encryptedShare, "c_key");
        IBigNumBackend backend = key.Backend;
        BigInteger n = key.N, nSquared = key.NSquared;
        BigInteger nHat = verifierParameters.N, s = verifierParameters.S, t = verifierParameters.T;

        BigInteger a = NonZeroModOrder(curve, SignCiphertextProofParameters.AlphaMaskBits(curve));
        BigInteger b = NonZeroModOrder(curve, SignCiphertextProofParameters.BetaMaskBits(curve));
        BigInteger gamma = ProofRandom.SignedBits(SignCiphertextProofParameters.ResponseMaskBits, nHat);
        BigInteger delta = ProofRandom.SignedBits(SignCiphertextProofParameters.ResponseMaskBits, nHat);
        BigInteger m = ProofRandom.SignedBits(SignCiphertextProofParameters.CommitmentMaskBits, nHat);
        BigInteger mu = ProofRandom.SignedBits(SignCiphertextProofParameters.CommitmentMaskBits, nHat);
        BigInteger rTilde = key.RandomUnit();
        BigInteger rho = key.RandomUnit();

        // Bounds for the secret exponents (ModPowSigned pads to them on a backend that needs it): ±2^bits is closed,
        // so |a| < 2^(bits+1); |γ| ≤ 2^bits·N̂ < 2^(bits + bits(N̂)).
        int aBits = SignCiphertextProofParameters.AlphaMaskBits(curve) + 1;
        int bBits = SignCiphertextProofParameters.BetaMaskBits(curve) + 1;
        int gammaBits = SignCiphertextProofParameters.ResponseMaskBits + nHat.BitLength;
        int mBits = SignCiphertextProofParameters.CommitmentMaskBits + nHat.BitLength;
        BigInteger commitmentA = backend.ModMultiply(
            backend.ModMultiply(backend.ModPowSigned(encryptedShare, a, nSquared, aBits), key.GPow(b), nSquared),
            backend.ModPowPublicExponent(rTilde, n, nSquared),
            nSquared);
        var secrets = new Secrets(
            a, b, gamma, delta, m, mu, rTilde, rho,
            commitmentA,
            E: backend.ModMultiply(backend.ModPowSigned(s, a, nHat, aBits), backend.ModPowSigned(t, gamma, nHat, gammaBits), nHat),
            F: backend.ModMultiply(backend.ModPowSigned(s, b, nHat, bBits), backend.ModPowSigned(t, delta, nHat, gammaBits), nHat),
            TPowM: backend.ModPowSigned(t, m, nHat, mBits),
            TPowMu: backend.ModPowSigned(t, mu, nHat, mBits),
            RhoPowN: backend.ModPowPublicExponent(rho, n, nSquared));
        return new SignCiphertextRandomness(curve.Kind, n, encryptedShare, verifierParameters, secrets);
    }

    /// <summary>Whether this randomness was made for c_key = <paramref name="encryptedShare"/> under <paramref name="key"/>.</summary>
    public bool IsFor(PaillierPublicKey key, BigInteger encryptedShare)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(encryptedShare);
        return _modulus.Equals(key.N) && _encryptedShare.Equals(encryptedShare);
    }

    /// <summary>Whether this randomness was made for this key, c_key, the server's ring-Pedersen parameters and curve.</summary>
    public bool IsFor(EcCurve curve, PaillierPublicKey key, BigInteger encryptedShare, RingPedersenParameters verifierParameters)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(verifierParameters);
        return curve.Kind == _curve && IsFor(key, encryptedShare) && _parameters.Equals(verifierParameters);
    }

    /// <summary>Takes the secrets out, once; throws when used before or made for something else.</summary>
    internal Secrets Consume(EcCurve curve, PaillierPublicKey key, BigInteger encryptedShare, RingPedersenParameters verifierParameters)
    {
        if (!IsFor(curve, key, encryptedShare, verifierParameters))
        {
            throw new InvalidOperationException("c3 proof randomness was precomputed for another key, share, curve or verifier parameters.");
        }
        return Interlocked.Exchange(ref _secrets, null)
            ?? throw new InvalidOperationException("c3 proof randomness has already been used.");
    }

    /// <summary>Drops the secrets unused. BouncyCastle integers cannot be wiped; dropping the only reference is what we can do.</summary>
    public void Dispose() => Interlocked.Exchange(ref _secrets, null);

    public override string ToString() => IsConsumed ? "SignCiphertextRandomness(consumed)" : "SignCiphertextRandomness(ready)";

    /// <summary>A mask whose residue mod q is non-zero, so a·R2 and b·R2 are never the identity (which has no encoding).</summary>
    private static BigInteger NonZeroModOrder(EcCurve curve, int bits)
    {
        while (true)
        {
            BigInteger mask = ProofRandom.SignedBits(bits);
            if (mask.Mod(curve.Order).SignValue != 0)
            {
                return mask;
            }
        }
    }

    /// <summary>g^x·h^y mod n for signed exponents.</summary>
    internal static BigInteger Commit(IBigNumBackend backend, BigInteger g, BigInteger x, BigInteger h, BigInteger y, BigInteger n) =>
        backend.ModMultiply(backend.ModPowSigned(g, x, n), backend.ModPowSigned(h, y, n), n);

    internal sealed record Secrets(
        BigInteger A,
        BigInteger B,
        BigInteger Gamma,
        BigInteger Delta,
        BigInteger M,
        BigInteger Mu,
        BigInteger RTilde,
        BigInteger Rho,
        BigInteger CommitmentA,
        BigInteger E,
        BigInteger F,
        BigInteger TPowM,
        BigInteger TPowMu,
        BigInteger RhoPowN)
    {
        // A record prints its members: never let a secret reach a log this way.
        public override string ToString() => "SignCiphertextRandomness.Secrets";
    }
}
