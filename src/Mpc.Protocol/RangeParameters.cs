using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;

namespace Mpc.Protocol;

/// <summary>
/// The integer ranges that keep the client's homomorphic computation exact and statistically hiding.
/// Key generation proves |x1| &lt; 2^(ℓ+ε) (ℓ = bits of q, ε = 2ℓ). The client's c3 plaintext is
/// ρ·q + k2⁻¹m' + a·x1 with a &lt; q, so |a·x1| &lt; 2^(2ℓ+ε); choosing ρ below 2^(ℓ+ε+128) makes ρ·q
/// dwarf it by 2^128 (statistical hiding), and N ≥ 2^(2ℓ+ε+130) keeps the sum below N (no wrap).
/// </summary>
public static class RangeParameters
{
    public const int StatisticalSecurityBits = 128;

    /// <summary>Bit length of the mask ρ in c3.</summary>
    public static int MaskBits(EcCurve curve) => ProofParameters.Ell(curve) + ProofParameters.Epsilon(curve) + StatisticalSecurityBits;

    /// <summary>The smallest Paillier modulus (in bits) for which c3 cannot wrap modulo N.</summary>
    public static int MinimumPaillierBits(EcCurve curve) =>
        2 * ProofParameters.Ell(curve) + ProofParameters.Epsilon(curve) + StatisticalSecurityBits + 2;
}
