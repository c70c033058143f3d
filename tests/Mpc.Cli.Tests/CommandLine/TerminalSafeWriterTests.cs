namespace Mpc.Cli.Tests.CommandLine;

/// <summary>What reaches the terminal of text `mpc` did not write itself (the process-level test: CmsCliTests).</summary>
public sealed class TerminalSafeWriterTests
{
    [Theory]
    [InlineData("plain text, tabs\tand\nline feeds", "plain text, tabs\tand\nline feeds")]
    [InlineData("CN=Mallory\u001b[2K\rVerified OK", "CN=Mallory?[2K?Verified OK")]
    [InlineData("a lone carriage return at the end\r", "a lone carriage return at the end?")]
    [InlineData("{\r\n  \"windows\": \"line ends\"\r\n}", "{\r\n  \"windows\": \"line ends\"\r\n}")]
    [InlineData("\r\r\n", "?\r\n")]
    [InlineData("C1 \u009b2J and NEL \u0085, DEL \u007f", "C1 ?2J and NEL ?, DEL ?")]
    [InlineData("gnp.\u202eexe and \u2066isolates\u2069, \u200emarks\u200f, \u061c", "gnp.?exe and ?isolates?, ?marks?, ?")]
    [InlineData("Ünïcödé … stays", "Ünïcödé … stays")]
    public void Control_and_bidi_characters_become_question_marks_but_line_ends_stay(string text, string shown)
    {
        Assert.Equal(shown, TerminalSafeWriter.Clean(text));

        using var inner = new StringWriter { NewLine = "\n" };
        using var writer = new TerminalSafeWriter(inner);
        writer.Write(text);
        writer.WriteLine(text);
        writer.Write(text.ToCharArray(), 0, text.Length);
        Assert.Equal(shown + shown + "\n" + shown, inner.ToString());
    }
}
