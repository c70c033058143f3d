using Mpc.Text;

namespace Mpc.Grains.Abstractions;

/// <summary>
/// The one way client-supplied text is made safe to show. <see cref="Printable"/> replaces what a terminal or viewer
/// would act on instead of showing (control characters, which can move the cursor and erase lines, and the bidi
/// embeddings, overrides and isolates, which reorder the text around them); <see cref="Quote"/> also cuts an identifier
/// echoed in an error message to <see cref="MaxEchoedLength"/> characters plus "…", so a hostile 10 kB value is never
/// echoed whole (it would overflow the caller's metadata limit).
/// </summary>
public static class ClientText
{
    public const int MaxEchoedLength = 64;

    public static string Quote(string? identifier)
    {
        string text = Printable(new string([.. (identifier ?? "").Take(MaxEchoedLength + 1)]));
        return text.Length > MaxEchoedLength ? text[..MaxEchoedLength] + "…" : text;
    }

    /// <summary>
    /// <paramref name="text"/> with every control character and bidi formatting character (U+061C, U+200E, U+200F,
    /// U+202A–U+202E, U+2066–U+2069: <see cref="HiddenCharacters"/>, which the CLI's TerminalSafeWriter also uses) replaced by '?'.
    /// </summary>
    public static string Printable(string? text) => new([.. (text ?? "").Select(c => HiddenCharacters.IsHidden(c) ? '?' : c)]);

}
