using System.Buffers;
using System.Globalization;
using System.Text;
using Mpc.Text;

namespace Mpc.Protocol;

/// <summary>
/// The label a user gives a device or backup (enrolment, backup, restore, import), which device lists show and
/// terminals print. A label that a terminal acts on instead of showing (<see cref="HiddenCharacters"/>: control
/// characters, bidi marks) could reorder or erase the text around it and pass one device off as another; so could one
/// whose characters do not show at all (zero-width spaces and joiners, the word joiner, a byte-order mark, a soft
/// hyphen, tag characters: Unicode's format category) or break the line (line and paragraph separators): "phone" and
/// "pho\u200Bne" would list as the same device.
/// </summary>
public static class DeviceLabels
{
    public const int MaxLength = 64;

    /// <summary>Empty or null (no label), or at most <see cref="MaxLength"/> characters, each of them shown as itself.</summary>
    public static bool IsValid(string? label) => label is null || (label.Length <= MaxLength && !label.Any(HiddenCharacters.IsHidden) && IsVisibleText(label));

    /// <summary>The one wording of the rule, for every layer that refuses a label (grain, SDK).</summary>
    public static string Invalid { get; } =
        $"A device label is at most {MaxLength} printable characters (no control, format or invisible characters such as bidi marks or zero-width spaces).";

    /// <summary>Well-formed UTF-16 (no lone surrogate) with no control, format, line- or paragraph-separator code point.</summary>
    private static bool IsVisibleText(string label)
    {
        ReadOnlySpan<char> rest = label;
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out Rune rune, out int used) != OperationStatus.Done
                || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
                    or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return false;
            }
            rest = rest[used..];
        }
        return true;
    }
}
