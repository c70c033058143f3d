namespace Mpc.Text;

/// <summary>
/// Characters a terminal or viewer acts on instead of showing: control characters (which can move the cursor and erase
/// lines) and the bidi marks, embeddings, overrides and isolates (which reorder the text around them). One source file,
/// linked into the grain abstractions (client text the server stores or echoes, ClientText), the CLI (what it prints,
/// TerminalSafeWriter) and the protocol layer (device labels, which the server and the SDK refuse with any of them:
/// DeviceLabels), so all of them treat the same set.
/// </summary>
internal static class HiddenCharacters
{
    public static bool IsHidden(char c) =>
        char.IsControl(c) || c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}
