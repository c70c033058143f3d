using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// The client's side of <see cref="SignCiphertextProof"/>: c3 and its proof from the witness (α, β) and precomputed
/// single-use randomness. Checks no witness range (<see cref="SignCiphertextProof.EncryptAndProve"/> does), so tests can
/// build the out-of-range proofs the verifier must refuse.
/// </summary>
internal static class SignCiphertextProver
{
    internal static BigInteger EncryptAndProve(
        EcCurve curve, PaillierPublicKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare,
        ECPoint r2, ECPoint x1Point, ECPoint x2Point, BigInteger alpha, BigInteger beta,
        SignCiphertextRandomness randomness, ProofContext context, ReadOnlySpan<byte> binding, out SignCiphertextProof proof)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(verifierParameters);
        ArgumentNullException.ThrowIfNull(encryptedShare);
        ArgumentNullException.ThrowIfNull(r2);
        ArgumentNullException.ThrowIfNull(x1Point);
        ArgumentNullException.ThrowIfNull(x2Point);
        ArgumentNullException.ThrowIfNull(alpha);
        ArgumentNullException.ThrowIfNull(beta);
        ArgumentNullException.ThrowIfNull(randomness);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Curve != curve.Kind || context.Prover != PartyRole.Client)
        {
            throw new ArgumentException("The c3 proof is the client's, on the context's curve.", nameof(context));
        }
        curve.ValidatePoint(r2, "R2");
        curve.ValidatePoint(x1Point, "X1");
        SignCiphertextChecks.RequireValidOrIdentity(curve, x2Point, "X2");
        SignCiphertextRandomness.Secrets secrets = randomness.Consume(curve, key, encryptedShare, verifierParameters);

        IBigNumBackend backend = key.Backend;
        BigInteger n = key.N, nSquared = key.NSquared;
        BigInteger nHat = verifierParameters.N, s = verifierParameters.S;
        BigInteger c3 = backend.ModMultiply(
            backend.ModMultiply(backend.ModPowSigned(encryptedShare, alpha, nSquared, SignCiphertextProofParameters.AlphaBits(curve)), key.GPow(beta), nSquared),
            secrets.RhoPowN,
            nSquared);

        byte[] bx = curve.EncodePoint(curve.MultiplySecret(r2, secrets.A));
        byte[] by = curve.EncodePoint(curve.MultiplySecret(r2, secrets.B));
        BigInteger bigS = backend.ModMultiply(backend.ModPowSigned(s, alpha, nHat, SignCiphertextProofParameters.AlphaBits(curve)), secrets.TPowM, nHat);
        BigInteger bigT = backend.ModMultiply(backend.ModPowSigned(s, beta, nHat, SignCiphertextProofParameters.BetaBits(curve)), secrets.TPowMu, nHat);

        BigInteger e = SignCiphertextChecks.Challenge(
            curve, n, encryptedShare, c3, r2, x1Point, x2Point, verifierParameters, binding,
            secrets.CommitmentA, bx, by, secrets.E, secrets.F, bigS, bigT, context);
        proof = new SignCiphertextProof(
            secrets.CommitmentA, bx, by, secrets.E, secrets.F, bigS, bigT,
            z1: secrets.A.Add(e.Multiply(alpha)),
            z2: secrets.B.Add(e.Multiply(beta)),
            z3: secrets.Gamma.Add(e.Multiply(secrets.M)),
            z4: secrets.Delta.Add(e.Multiply(secrets.Mu)),
            w: backend.ModMultiply(secrets.RTilde, backend.ModPowPublicExponent(secrets.Rho, e, n), n));
        return c3;
    }
}
