using System.Globalization;

namespace Mpc.LoadTest;

/// <summary>Durations on the command line: "30s", "500ms", "2m", "1h" or a TimeSpan ("00:00:30").</summary>
internal static class Durations
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        (string suffix, double scale)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        foreach ((string suffix, double scale) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
                && number >= 0)
            {
                value = TimeSpan.FromSeconds(number * scale);
                return true;
            }
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
    }
}
