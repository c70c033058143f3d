using System.Text;
using Mpc.Text;

namespace Mpc.Cli;

/// <summary>
/// stdout and stderr of `mpc`: every control character but the line feed and the tab, and every bidirectional
/// formatting character, is written as '?'. Much of what the CLI prints is not its own text: audit entries and device
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

    /// <summary>True for a character that must not reach a terminal as it is.</summary>
    public static bool IsUnsafe(char c) => c is not '\n' and not '\t' && HiddenCharacters.IsHidden(c);

    /// <summary>
    /// <paramref name="text"/> with every unsafe character (<see cref="IsUnsafe"/>) as '?', except a carriage return
    /// right before a line feed: Windows' line end (Environment.NewLine, e.g. in indented JSON), which moves nothing.
    /// </summary>
    public static string Clean(string text)
    {
        if (!text.Any(IsUnsafe))
        {
            return text;
        }
        return string.Create(text.Length, text, static (cleaned, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                bool lineEnd = source[i] == '\r' && i + 1 < source.Length && source[i + 1] == '\n';
                cleaned[i] = IsUnsafe(source[i]) && !lineEnd ? '?' : source[i];
            }
        });
    }

    public override void Write(char value) => inner.Write(IsUnsafe(value) ? '?' : value);

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
