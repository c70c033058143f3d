using Mpc.Grains.Abstractions;
using Mpc.Protocol;

namespace Mpc.Grains;

/// <summary>The grain's refusals of malformed identifiers and labels, one message each (the rules are <see cref="KeyIds"/>', <see cref="DeviceIds"/>' and <see cref="DeviceLabels"/>').</summary>
internal static class Identifiers
{
    public static void RequireKeyId(string keyId)
    {
        if (!KeyIds.IsValid(keyId))
        {
            throw new SignerException(SignerErrorKind.InvalidArgument, KeyIds.Invalid);
        }
    }

    /// <summary>A device label as stored: empty when none was given; refused by <see cref="DeviceLabels"/>' rule.</summary>
    public static string RequireLabel(string? label) =>
        DeviceLabels.IsValid(label) ? label ?? "" : throw new SignerException(SignerErrorKind.InvalidArgument, DeviceLabels.Invalid);

    /// <summary>NotFound for a device id the key does not have (a malformed one included: it cannot exist).</summary>
    public static SignerException UnknownDevice(string keyId, string deviceId) =>
        new(SignerErrorKind.NotFound, $"Key '{keyId}' has no device '{ClientText.Quote(deviceId)}'.");
}
