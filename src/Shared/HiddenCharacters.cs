using System.Buffers;
using System.Globalization;
using System.Text;

namespace Mpc.Text;

/// <summary>
/// The one rule for characters that do not show as themselves. A terminal or viewer acts on some instead of showing
/// them: control characters (which can move the cursor and erase lines) and the bidi marks, embeddings, overrides and
/// isolates (which reorder the text around them). Others do not show at all, so "pho\u200Bne" looks like "phone":
/// the rest of Unicode's format category (zero-width spaces, joiners and non-joiners, the word joiner, a byte-order
/// mark, a soft hyphen, tag characters), and the line and paragraph separators, which break a line where none shows.
/// A lone surrogate is no character at all. One source file, linked into the grain abstractions (client text the server
/// stores or echoes: ClientText), the CLI (what it prints: TerminalSafeWriter) and the protocol layer (device labels,
/// which the server and the SDK refuse with any of them: DeviceLabels), so all of them treat the same set.
/// </summary>
/// <remarks>
/// The zero-width joiner is hidden too, although emoji sequences use it ("👨‍👩‍👧" shows as "👨?👩?👧" once replaced), and so
/// are tag characters, which subdivision flags use: text from someone else is shown so that what is there can be seen,
/// and a joiner between two letters hides as well as one between two emoji. Variation selectors and skin-tone modifiers
/// are not format characters and stay.
/// </remarks>
internal static class HiddenCharacters
{
    /// <summary>True for a code point that does not show as itself: control, format, line or paragraph separator.</summary>
    private static bool IsHidden(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>True when <paramref name="text"/> holds a hidden code point (<see cref="IsHidden"/>) or a lone surrogate.</summary>
    public static bool Any(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            if (!StartsShown(text, out int used))
            {
                return true;
            }
            text = text[used..];
        }
        return false;
    }

    /// <summary>
    /// <paramref name="text"/> with each hidden code point and each lone surrogate as one <paramref name="replacement"/>,
    /// except those <paramref name="keep"/> (given the text and the index of the code point) lets through as they are.
    /// </summary>
    public static string Replace(string text, char replacement, Func<string, int, bool>? keep = null)
    {
        if (!Any(text))
        {
            return text;
        }
        var shown = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length;)
        {
            if (!StartsShown(text.AsSpan(i), out int used) && keep?.Invoke(text, i) != true)
            {
                shown.Append(replacement);
            }
            else
            {
                shown.Append(text, i, used);
            }
            i += used;
        }
        return shown.ToString();
    }

    /// <summary>Whether the code point at the start of <paramref name="text"/>, <paramref name="used"/> chars long, shows as itself.</summary>
    private static bool StartsShown(ReadOnlySpan<char> text, out int used) =>
        Rune.DecodeFromUtf16(text, out Rune rune, out used) == OperationStatus.Done && !IsHidden(rune);
}
