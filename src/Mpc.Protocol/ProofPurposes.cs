namespace Mpc.Protocol;

/// <summary>Transcript purposes of the protocol's Schnorr proofs and commitments: one per use, never shared.</summary>
internal static class ProofPurposes
{
    public const string KeyShare = "lindell17/keygen/share";
    public const string SigningNonce = "lindell17/sign/nonce";
    public const string RefreshFactor = "lindell17/refresh/factor";
    public const string RefreshShare = "lindell17/refresh/share";
}

/// <summary>Device ids name one share pair of a key; like key ids they appear in transcripts and storage keys.</summary>
public static class DeviceIds
{
    public static bool IsValid(string? deviceId) => KeyIds.IsValid(deviceId);

    /// <summary>A fresh device id: a readable prefix and 64 random bits.</summary>
    public static string New(string prefix) => prefix + "-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
}

/// <summary>Key ids appear in transcripts, storage keys and URLs: keep them short and plain.</summary>
public static class KeyIds
{
    public static bool IsValid(string? keyId) =>
        !string.IsNullOrEmpty(keyId)
        && keyId.Length <= ProtocolLimits.MaxKeyIdLength
        && keyId.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_');

    public static void Require(string? keyId)
    {
        if (!IsValid(keyId))
        {
            throw new Crypto.MpcProtocolException(Crypto.MpcErrorCode.MalformedMessage,
                "Malformed message: key id must be 1-64 characters of A-Z, a-z, 0-9, '-' or '_'.");
        }
    }

    /// <summary>A fresh random key id (128 bits, hex).</summary>
    public static string New() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
}
