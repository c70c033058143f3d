using Mpc.Crypto.Paillier;

namespace Mpc.Protocol;

/// <summary>Sizes every party insists on; decoding refuses anything larger before any arithmetic.</summary>
public static class ProtocolLimits
{
    public const int NonceLength = 32;
    public const int ServerSessionIdLength = 16;
    public const int MaxKeyIdLength = 64;

    /// <summary>Most ring-Pedersen parameter sets a server names as already verified in round 2 of a key generation or refresh.</summary>
    public const int MaxKnownParameterSets = 8;

    /// <summary>Largest modulus-sized integer (N, N̂) in bits.</summary>
    public const int MaxModulusBits = PaillierPublicKey.MaximumModulusBits;

    /// <summary>Largest ciphertext (mod N²) in bits.</summary>
    public const int MaxCiphertextBits = 2 * MaxModulusBits;
}
