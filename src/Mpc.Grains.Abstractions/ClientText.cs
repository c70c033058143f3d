using Mpc.Text;

namespace Mpc.Grains.Abstractions;

/// <summary>
/// The one way client-supplied text is made safe to show. <see cref="Printable"/> replaces every character that does not
/// show as itself (<see cref="HiddenCharacters"/>: control characters, which can move the cursor and erase lines; bidi
/// embeddings, overrides and isolates, which reorder the text around them; zero-width and other format characters and
/// line separators, which hide; lone surrogates); <see cref="Quote"/> also cuts an identifier echoed in an error message
/// to <see cref="MaxEchoedLength"/> characters plus "…", so a hostile 10 kB value is never echoed whole (it would
/// overflow the caller's metadata limit).
/// </summary>
public static class ClientText
{
    public const int MaxEchoedLength = 64;

    public static string Quote(string? identifier)
    {
        string text = identifier ?? "";
        // Cut before replacing: a hidden pair of surrogates becomes one '?', and the "…" must say that text was cut.
        return text.Length > MaxEchoedLength ? Printable(text[..MaxEchoedLength]) + "…" : Printable(text);
    }

    /// <summary>
    /// <paramref name="text"/> with every hidden code point and lone surrogate (<see cref="HiddenCharacters"/>, which the
    /// CLI's TerminalSafeWriter and DeviceLabels also use) replaced by one '?'.
    /// </summary>
    public static string Printable(string? text) => HiddenCharacters.Replace(text ?? "", '?');
}
