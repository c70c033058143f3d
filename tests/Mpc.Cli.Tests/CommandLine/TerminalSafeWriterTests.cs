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
    [InlineData("pho\u200bne la\u200cp\u200dtop wo\u2060rd \ufeffbom soft\u00adhyphen", "pho?ne la?p?top wo?rd ?bom soft?hyphen")]
    [InlineData("tag\U000E0041\U000E007F line\u2028para\u2029", "tag?? line?para?")]
    [InlineData("emoji \U0001F4F1 \u2764\uFE0F \U0001F44D\U0001F3FD stay", "emoji \U0001F4F1 \u2764\uFE0F \U0001F44D\U0001F3FD stay")]
    [InlineData("a joined family \U0001F468\u200D\U0001F469\u200D\U0001F467 shows its joiners", "a joined family \U0001F468?\U0001F469?\U0001F467 shows its joiners")]
    public void Control_bidi_and_invisible_characters_become_question_marks_but_line_ends_stay(string text, string shown)
    {
        Assert.Equal(shown, TerminalSafeWriter.Clean(text));

        using var inner = new StringWriter { NewLine = "\n" };
        using var writer = new TerminalSafeWriter(inner);
        writer.Write(text);
        writer.WriteLine(text);
        writer.Write(text.ToCharArray(), 0, text.Length);
        Assert.Equal(shown + shown + "\n" + shown, inner.ToString());
    }

    [Fact]
    public void A_lone_surrogate_is_a_question_mark_whether_written_as_text_or_alone()
    {
        // Not theory data: xUnit would carry a lone surrogate as U+FFFD.
        Assert.Equal("lone?surrogate ?", TerminalSafeWriter.Clean("lone\uD800surrogate \uDC00"));

        using var inner = new StringWriter();
        using var writer = new TerminalSafeWriter(inner);
        writer.Write('\uD83D');
        writer.Write('\u200B');
        writer.Write('\n');
        Assert.Equal("??\n", inner.ToString());
    }
}
