using Mpc.Grains.Abstractions;
using Mpc.Protocol;

namespace Mpc.Grains;

/// <summary>The grain's refusals of malformed identifiers and labels, one message each (the rules are <see cref="KeyIds"/>' and <see cref="DeviceIds"/>').</summary>
internal static class Identifiers
{
    public const int MaxLabelLength = 64;

    public static void RequireKeyId(string keyId)
    {
        if (!KeyIds.IsValid(keyId))
        {
            throw new SignerException(SignerErrorKind.InvalidArgument, KeyIds.Invalid);
        }
    }

    /// <summary>A device label as stored: empty when none was given; refused when too long or not printable.</summary>
    public static string RequireLabel(string? label)
    {
        label ??= "";
        if (label.Length > MaxLabelLength || label.Any(char.IsControl))
        {
            throw new SignerException(SignerErrorKind.InvalidArgument, "A device label is at most 64 printable characters.");
        }
        return label;
    }

    /// <summary>NotFound for a device id the key does not have (a malformed one included: it cannot exist).</summary>
    public static SignerException UnknownDevice(string keyId, string deviceId) =>
        new(SignerErrorKind.NotFound, $"Key '{keyId}' has no device '{ClientText.Quote(deviceId)}'.");
}
