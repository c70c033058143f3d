using Mpc.Text;

namespace Mpc.Protocol;

/// <summary>
/// The label a user gives a device or backup (enrolment, backup, restore, import), which device lists show and
/// terminals print. A label with a character that does not show as itself (<see cref="HiddenCharacters"/>: control
/// characters and bidi marks, which reorder or erase the text around them; zero-width spaces and joiners and the rest
/// of Unicode's format category, line and paragraph separators, lone surrogates) could pass one device off as another:
/// "phone" and "pho\u200Bne" would list as the same device. Labels are refused with them, not cleaned.
/// </summary>
public static class DeviceLabels
{
    public const int MaxLength = 64;

    /// <summary>Empty or null (no label), or at most <see cref="MaxLength"/> characters, each of them shown as itself.</summary>
    public static bool IsValid(string? label) => label is null || (label.Length <= MaxLength && !HiddenCharacters.Any(label));

    /// <summary>The one wording of the rule, for every layer that refuses a label (grain, SDK).</summary>
    public static string Invalid { get; } =
        $"A device label is at most {MaxLength} printable characters (no control, format or invisible characters such as bidi marks or zero-width spaces).";
}
