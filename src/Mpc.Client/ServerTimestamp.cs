namespace Mpc.Client;

/// <summary>The one way a time the server sends (Unix milliseconds) becomes a <see cref="DateTimeOffset"/>.</summary>
internal static class ServerTimestamp
{
    // DateTimeOffset's range in Unix milliseconds (years 1 to 9999).
    private const long MinUnixMs = -62_135_596_800_000;
    private const long MaxUnixMs = 253_402_300_799_999;

    /// <summary>The time; <see cref="MpcErrorReason.MalformedMessage"/> for one no calendar holds, naming <paramref name="field"/>.</summary>
    public static DateTimeOffset From(long unixMs, string field) => unixMs is >= MinUnixMs and <= MaxUnixMs
        ? DateTimeOffset.FromUnixTimeMilliseconds(unixMs)
        : throw new MpcSignerException(MpcErrorReason.MalformedMessage, $"{field} has a timestamp out of range ({unixMs} ms)");
}
