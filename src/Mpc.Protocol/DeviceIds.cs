namespace Mpc.Protocol;

/// <summary>Device ids name one share pair of a key; like key ids they appear in transcripts and storage keys.</summary>
public static class DeviceIds
{
    public static bool IsValid(string? deviceId) => KeyIds.IsValid(deviceId);

    /// <summary>A fresh device id: a readable prefix and 64 random bits.</summary>
    public static string New(string prefix) => prefix + "-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
}
