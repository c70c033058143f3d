using System.Text.RegularExpressions;
using Mpc.Server;

namespace Mpc.Server.Tests.Configuration;

/// <summary>
/// docs/operations.md has one table of server settings; it is checked against the options classes: every
/// setting has a row, every <c>Mpc__</c> name in a row is a setting, and a default shown in the table is the
/// built-in default.
/// </summary>
public sealed partial class SettingsTableTests
{
    private const string Document = "docs/operations.md";
    private const string TableHeader = "| setting (environment variable) |";

    [Fact]
    public void Every_setting_has_a_row_in_the_table()
    {
        HashSet<string> documented = Rows().SelectMany(row => row.Names).ToHashSet(StringComparer.Ordinal);
        string[] missing = ServerSettings.All.Select(s => s.EnvironmentVariable).Where(name => !documented.Contains(name)).ToArray();
        Assert.True(missing.Length == 0,
            $"{Document}, settings table: no row for {string.Join(", ", missing)}. Add a row per setting: | `NAME` | meaning | default |");
    }

    [Fact]
    public void Every_row_names_a_real_setting()
    {
        HashSet<string> settings = ServerSettings.All.Select(s => s.EnvironmentVariable).ToHashSet(StringComparer.Ordinal);
        string[] unknown = Rows().SelectMany(row => row.Names).Where(name => name.StartsWith("Mpc__", StringComparison.Ordinal) && !settings.Contains(name)).ToArray();
        Assert.True(unknown.Length == 0, $"{Document}, settings table: {string.Join(", ", unknown)} is not a property of MpcServerOptions (spelling is exact)");
    }

    [Fact]
    public void Every_row_is_documented_once_with_a_meaning()
    {
        Row[] rows = Rows();
        Assert.True(rows.Length >= ServerSettings.All.Length / 2, $"{Document}: the settings table was not found or is nearly empty");
        string[] repeated = rows.SelectMany(row => row.Names).GroupBy(name => name).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.True(repeated.Length == 0, $"{Document}, settings table: more than one row for {string.Join(", ", repeated)}");
        Assert.All(rows, row => Assert.False(string.IsNullOrWhiteSpace(row.Meaning), $"{string.Join(", ", row.Names)} has no meaning"));
    }

    [Fact]
    public void A_default_shown_in_the_table_is_the_built_in_default()
    {
        var defaults = new MpcServerOptions();
        var wrong = new List<string>();
        foreach (Row row in Rows())
        {
            // A default cell starts with the values in backticks, one per name, in the order of the names.
            string[] shown = Code().Matches(row.Default.Split('(')[0]).Select(m => m.Groups[1].Value).ToArray();
            for (int i = 0; i < row.Names.Length && i < shown.Length; i++)
            {
                if (ServerSettings.All.FirstOrDefault(s => s.EnvironmentVariable == row.Names[i]) is not { } setting)
                {
                    continue;
                }
                object? actual = ServerConfigurationTests.ValueAt(defaults, setting.Path);
                if (actual is null)
                {
                    continue; // no built-in value: the table describes what happens instead (e.g. <data>-kek)
                }
                object? documented;
                try
                {
                    documented = ServerConfigurationTests.Convert(shown[i], setting.Type);
                }
                catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException)
                {
                    wrong.Add($"{row.Names[i]}: `{shown[i]}` is not a value of its type");
                    continue;
                }
                if (!Equals(documented, actual))
                {
                    wrong.Add($"{row.Names[i]}: the table says `{shown[i]}`, the code {actual}");
                }
            }
        }
        Assert.True(wrong.Count == 0, $"{Document}, settings table defaults: {string.Join("; ", wrong)}");
    }

    private sealed record Row(string[] Names, string Meaning, string Default);

    /// <summary>The rows of the one table whose header starts with <see cref="TableHeader"/>.</summary>
    private static Row[] Rows()
    {
        string[] lines = File.ReadAllLines(Path.Combine(Repository.Root, Document));
        int header = Array.FindIndex(lines, line => line.StartsWith(TableHeader, StringComparison.Ordinal));
        Assert.True(header >= 0, $"{Document} has no table starting with '{TableHeader}'");
        Assert.Equal(1, lines.Count(line => line.StartsWith(TableHeader, StringComparison.Ordinal)));
        var rows = new List<Row>();
        foreach (string line in lines.Skip(header + 2).TakeWhile(line => line.StartsWith('|')))
        {
            string[] cells = line.Trim('|').Split(" | ");
            Assert.True(cells.Length >= 3, $"{Document}: a settings row without three cells: {line}");
            string[] names = Code().Matches(cells[0]).Select(m => m.Groups[1].Value).ToArray();
            rows.Add(new Row(names, cells[1].Trim(), cells[^1].Trim()));
        }
        return [.. rows];
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();
}
