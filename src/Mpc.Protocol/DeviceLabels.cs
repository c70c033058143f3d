using Mpc.Text;

namespace Mpc.Protocol;

/// <summary>
/// The label a user gives a device or backup (enrolment, backup, restore, import), which device lists show and
/// terminals print. A label that a terminal acts on instead of showing (<see cref="HiddenCharacters"/>: control
/// characters, bidi marks) could reorder or erase the text around it and pass one device off as another.
/// </summary>
public static class DeviceLabels
{
    public const int MaxLength = 64;

    /// <summary>Empty or null (no label), or at most <see cref="MaxLength"/> characters, none of them hidden.</summary>
    public static bool IsValid(string? label) => label is null || (label.Length <= MaxLength && !label.Any(HiddenCharacters.IsHidden));

    /// <summary>The one wording of the rule, for every layer that refuses a label (grain, SDK).</summary>
    public static string Invalid { get; } = $"A device label is at most {MaxLength} printable characters (no control characters or bidi marks).";
}
