using System.Text;
using Mpc.Text;

namespace Mpc.Cli;

/// <summary>
/// stdout and stderr of `mpc`: every character that does not show as itself (<see cref="HiddenCharacters"/>: control
/// characters but the line feed and the tab, bidi formatting, zero-width and other format characters, line separators,
/// lone surrogates) is written as '?'. Much of what the CLI prints is not its own text: audit entries and device
/// labels from the server, certificate subjects from a .p7s someone sent, messages that quote them. An escape sequence
/// or a carriage return in one of those could move the cursor and overwrite lines ("Verified OK" over a failure, a
/// refusal erased from the audit listing), and a bidi override could reorder what is shown. Filtering the two writers
/// once covers every line the CLI prints, including ones added later.
/// </summary>
internal sealed class TerminalSafeWriter(TextWriter inner) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    public override IFormatProvider FormatProvider => inner.FormatProvider;

    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string NewLine
    {
        get => inner.NewLine;
        set => inner.NewLine = value;
    }

    /// <summary>Replaces stdout and stderr with filtering writers; called once, first thing in Main.</summary>
    public static void Install()
    {
        Console.SetOut(new TerminalSafeWriter(Console.Out));
        Console.SetError(new TerminalSafeWriter(Console.Error));
    }

    /// <summary>
    /// <paramref name="text"/> with every hidden code point and lone surrogate (<see cref="HiddenCharacters"/>) as one '?',
    /// except the line feed, the tab and a carriage return right before a line feed: Windows' line end
    /// (Environment.NewLine, e.g. in indented JSON), which moves nothing.
    /// </summary>
    public static string Clean(string text) => HiddenCharacters.Replace(text, '?', static (source, i) =>
        source[i] is '\n' or '\t' || (source[i] == '\r' && i + 1 < source.Length && source[i + 1] == '\n'));

    // A char written alone cannot be checked as half of a surrogate pair, so a lone half is written as '?'; callers that
    // print emoji write strings.
    public override void Write(char value) => inner.Write(Clean(value.ToString()));

    public override void Write(string? value)
    {
        if (value is not null)
        {
            inner.Write(Clean(value));
        }
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    // The line ends are the inner writer's own (its NewLine), never filtered.
    public override void WriteLine() => inner.WriteLine();

    public override void WriteLine(string? value) => inner.WriteLine(value is null ? null : Clean(value));

    public override void Flush() => inner.Flush();

    public override Task FlushAsync() => inner.FlushAsync();
}
