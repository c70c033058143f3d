namespace Mpc.Grains.Abstractions;

/// <summary>
/// The one way a client-supplied identifier (device id, user id, …) appears in an error message: cut to
/// <see cref="MaxEchoedLength"/> characters plus "…", control characters replaced, so a hostile 10 kB value
/// is never echoed whole (it would overflow the caller's metadata limit).
/// </summary>
public static class ClientText
{
    public const int MaxEchoedLength = 64;

    public static string Quote(string? identifier)
    {
        string text = new([.. (identifier ?? "").Take(MaxEchoedLength + 1).Select(c => char.IsControl(c) ? '?' : c)]);
        return text.Length > MaxEchoedLength ? text[..MaxEchoedLength] + "…" : text;
    }
}
