using Mpc.Grains.Abstractions;

namespace Mpc.Grains.Tests;

/// <summary>
/// Client text the server stores or echoes is shown with every character that does not show as itself replaced by one
/// '?': the same rule (HiddenCharacters) as the CLI's TerminalSafeWriter and DeviceLabels.
/// </summary>
public sealed class ClientTextTests
{
    [Theory]
    [InlineData("CN=Mallory\u001b[2K\rok\n", "CN=Mallory?[2K?ok?")]
    [InlineData("gnp.\u202eexe \u2066x\u2069 \u200ey\u200f \u061c", "gnp.?exe ?x? ?y? ?")]
    [InlineData("pho\u200bne la\u200cp\u200dtop wo\u2060rd \ufeffbom soft\u00adhyphen", "pho?ne la?p?top wo?rd ?bom soft?hyphen")]
    [InlineData("tag\U000E0041\U000E007F line\u2028para\u2029", "tag?? line?para?")]
    [InlineData("Zoë's phone \U0001F4F1 \u2764\uFE0F \U0001F44D\U0001F3FD", "Zoë's phone \U0001F4F1 \u2764\uFE0F \U0001F44D\U0001F3FD")]
    [InlineData("family \U0001F468\u200D\U0001F469\u200D\U0001F467", "family \U0001F468?\U0001F469?\U0001F467")]
    public void Hidden_characters_become_one_question_mark_each_and_visible_ones_stay(string text, string shown)
    {
        Assert.Equal(shown, ClientText.Printable(text));
        Assert.Equal(shown, ClientText.Quote(text));
    }

    [Fact]
    public void A_lone_surrogate_becomes_a_question_mark()
    {
        // Not theory data: xUnit would carry a lone surrogate as U+FFFD.
        Assert.Equal("lone?surrogate ?", ClientText.Printable("lone\uD800surrogate \uDC00"));
        Assert.Equal("", ClientText.Printable(null));
    }

    [Fact]
    public void A_quoted_identifier_is_cut_to_the_echo_limit_and_says_so_even_when_replacing_shortened_it()
    {
        string tags = string.Concat(Enumerable.Repeat("\U000E0041", ClientText.MaxEchoedLength));

        Assert.Equal(new string('?', ClientText.MaxEchoedLength / 2) + "…", ClientText.Quote(tags));
        Assert.Equal(new string('x', ClientText.MaxEchoedLength) + "…", ClientText.Quote(new string('x', 10_000)));
        Assert.Equal(new string('x', ClientText.MaxEchoedLength), ClientText.Quote(new string('x', ClientText.MaxEchoedLength)));
    }
}
