using Mpc.Crypto.Curves;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// Every size of the c3 proof (<see cref="SignCiphertextProof"/>, Πaff-g style), in one place. ℓ = bits of q.
/// The derivation is in docs/protocol.md ("The c3 proof"); in short: the honest witness is α &lt; q and
/// β = ρ_mask·q + (k2⁻¹·m' mod q) &lt; 2^MaskBits·q + q, masks add κ+σ bits, the verifier accepts one more bit,
/// and an extracted witness may be one more bit again, so |α·x1 + β| &lt; 2^(A_β+κ+σ+3) must stay below N/2.
/// </summary>
public static class SignCiphertextProofParameters
{
    /// <summary>κ: bits of the Fiat–Shamir challenge e; soundness error 2^-κ.</summary>
    public const int ChallengeBits = 128;

    /// <summary>σ: statistical slack of every mask; the proof leaks at most 2^-σ statistically.</summary>
    public const int StatisticalBits = 128;

    /// <summary>Bits of the mask ρ_mask in β = ρ_mask·q + k2⁻¹·m': ℓ + ε + 128 with ε = 2ℓ (the range proof on c_key).</summary>
    public static int MaskBits(EcCurve curve) => ProofParameters.Ell(curve) + ProofParameters.Epsilon(curve) + StatisticalBits;

    /// <summary>A_α = ℓ: the honest α = k2⁻¹·r·x2 mod q is below q.</summary>
    public static int AlphaBits(EcCurve curve) => ProofParameters.Ell(curve);

    /// <summary>A_β = MaskBits + ℓ + 1 = 4ℓ + 129: the honest β is below 2^MaskBits·q + q.</summary>
    public static int BetaBits(EcCurve curve) => MaskBits(curve) + ProofParameters.Ell(curve) + 1;

    /// <summary>The mask a is uniform in ±2^(A_α+κ+σ).</summary>
    public static int AlphaMaskBits(EcCurve curve) => AlphaBits(curve) + ChallengeBits + StatisticalBits;

    /// <summary>The mask b is uniform in ±2^(A_β+κ+σ).</summary>
    public static int BetaMaskBits(EcCurve curve) => BetaBits(curve) + ChallengeBits + StatisticalBits;

    /// <summary>The verifier accepts |z1| &lt; 2^Z1Bits = 2^(A_α+κ+σ+1) only.</summary>
    public static int Z1Bits(EcCurve curve) => AlphaMaskBits(curve) + 1;

    /// <summary>The verifier accepts |z2| &lt; 2^Z2Bits = 2^(A_β+κ+σ+1) only.</summary>
    public static int Z2Bits(EcCurve curve) => BetaMaskBits(curve) + 1;

    /// <summary>
    /// |α·x1 + β| &lt; 2^NoWrapBits for every witness an accepting proof can be made from: extraction gives
    /// |α| &lt; 2^(A_α+κ+σ+2), |β| &lt; 2^(A_β+κ+σ+2), x1 &lt; q, and A_α + ℓ &lt; A_β, so the sum is below twice the β bound.
    /// </summary>
    public static int NoWrapBits(EcCurve curve) => BetaBits(curve) + ChallengeBits + StatisticalBits + 3;

    /// <summary>
    /// The smallest Paillier modulus (bits) the proof is sound for: N ≥ 2^(NoWrapBits+1) keeps |α·x1 + β| &lt; N/2,
    /// so the centred decryption is the exact integer. 4ℓ + 390: 1414 bits for 256-bit curves, 1926 for P-384.
    /// </summary>
    public static int MinimumPaillierBits(EcCurve curve) => NoWrapBits(curve) + 2;

    /// <summary>Ring-Pedersen masks m, μ are uniform in ±2^σ·N̂.</summary>
    public const int CommitmentMaskBits = StatisticalBits;

    /// <summary>Ring-Pedersen masks γ, δ are uniform in ±2^(κ+2σ)·N̂.</summary>
    public const int ResponseMaskBits = ChallengeBits + 2 * StatisticalBits;

    /// <summary>|z3|, |z4| ≤ 2^(κ+2σ)·N̂ + 2^κ·2^σ·N̂ &lt; 2^(κ+2σ+1)·N̂: the parse bound, with one bit of slack.</summary>
    public static int Z3Bits(int modulusBits) => ResponseMaskBits + modulusBits + 2;

    /// <summary>Throws <see cref="MpcErrorCode.PaillierModulusTooSmall"/> when N is too small for the proof on <paramref name="curve"/>.</summary>
    public static void RequirePaillierBits(EcCurve curve, int modulusBits)
    {
        ArgumentNullException.ThrowIfNull(curve);
        int minimum = MinimumPaillierBits(curve);
        if (modulusBits < minimum)
        {
            throw Error.Of(MpcErrorCode.PaillierModulusTooSmall,
                $"A Paillier modulus of {modulusBits} bits is too small for the c3 proof on {curve.Name}; at least {minimum} are required.");
        }
    }
}
