namespace Mpc.Protocol;

/// <summary>Transcript purposes of the protocol's Schnorr proofs and commitments: one per use, never shared.</summary>
internal static class ProofPurposes
{
    public const string KeyShare = "lindell17/keygen/share";
    public const string SigningNonce = "lindell17/sign/nonce";
    public const string RefreshFactor = "lindell17/refresh/factor";
    public const string RefreshShare = "lindell17/refresh/share";
}
