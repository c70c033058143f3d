namespace Mpc.Protocol;

/// <summary>Key ids appear in transcripts, storage keys and URLs: keep them short and plain.</summary>
public static class KeyIds
{
    public static bool IsValid(string? keyId) =>
        !string.IsNullOrEmpty(keyId)
        && keyId.Length <= ProtocolLimits.MaxKeyIdLength
        && keyId.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_');

    /// <summary>The one wording of the rule, for every layer that refuses a key id (protocol, grain, gRPC front end, SDK).</summary>
    public static string Invalid { get; } = $"Key id must be 1-{ProtocolLimits.MaxKeyIdLength} characters of A-Z, a-z, 0-9, '-' or '_'.";

    public static void Require(string? keyId)
    {
        if (!IsValid(keyId))
        {
            throw new Crypto.MpcProtocolException(Crypto.MpcErrorCode.MalformedMessage, Invalid);
        }
    }

    /// <summary>A fresh random key id (128 bits, hex).</summary>
    public static string New() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
}
