using Mpc.Crypto.Curves;

namespace Mpc.Crypto.Proofs;

/// <summary>Security parameters of the zero-knowledge proofs (CGGMP21 notation).</summary>
public static class ProofParameters
{
    /// <summary>
    /// Rounds of the binary-challenge proofs (Πmod, Πprm): soundness error 2^-128 per proof.
    /// TSSHOCK showed that too few rounds are forgeable; at least 80 are required.
    /// </summary>
    public const int BinaryChallengeRounds = 128;

    /// <summary>ℓ of the no-small-factor proof: factors below roughly 2^ℓ are caught.</summary>
    public const int FactorProofEll = 256;

    /// <summary>ε of the no-small-factor proof: statistical slack of the masks.</summary>
    public const int FactorProofEpsilon = 512;

    /// <summary>Smallest accepted ring-Pedersen modulus N̂.</summary>
    public const int RingPedersenMinimumBits = 2048;

    /// <summary>Largest accepted ring-Pedersen modulus N̂ (a bound on the verifier's work).</summary>
    public const int RingPedersenMaximumBits = 4096;

    /// <summary>ℓ of the encrypted-discrete-log proof: the bit length of the curve order.</summary>
    public static int Ell(EcCurve curve) => curve.Order.BitLength;

    /// <summary>ε of the encrypted-discrete-log proof: twice ℓ.</summary>
    public static int Epsilon(EcCurve curve) => 2 * Ell(curve);
}
