using Mpc.Crypto.Curves;
using Mpc.Crypto.Proofs;

namespace Mpc.Protocol;

/// <summary>
/// The integer ranges that keep the client's homomorphic computation exact and statistically hiding.
/// Key generation proves |x1| &lt; 2^(ℓ+ε) (ℓ = bits of q, ε = 2ℓ). The client's c3 plaintext is
/// ρ·q + k2⁻¹m' + a·x1 with a &lt; q, so |a·x1| &lt; 2^(2ℓ+ε); choosing ρ below 2^(ℓ+ε+128) makes ρ·q
/// dwarf it by 2^128 (statistical hiding). The modulus must be large enough for the c3 proof's no-wrap bound
/// (N ≥ 2^(4ℓ+390), <see cref="SignCiphertextProofParameters"/>), which also covers the honest c3 (2^(2ℓ+ε+130)).
/// </summary>
public static class RangeParameters
{
    public const int StatisticalSecurityBits = 128;

    /// <summary>Bit length of the mask ρ in c3.</summary>
    public static int MaskBits(EcCurve curve) => SignCiphertextProofParameters.MaskBits(curve);

    /// <summary>
    /// The smallest Paillier modulus (in bits) a key may use: no accepted c3 can wrap modulo N (the c3 proof's bound,
    /// 4ℓ + 390, above the honest c3's 2ℓ + ε + 130).
    /// </summary>
    public static int MinimumPaillierBits(EcCurve curve) => SignCiphertextProofParameters.MinimumPaillierBits(curve);
}
