using System.Collections.Immutable;

namespace Mpc.Server;

/// <summary><see cref="AuthOptions.AdminSubjects"/>, parsed: the "sub" values allowed to make operator calls.</summary>
internal static class OperatorSubjects
{
    /// <summary>
    /// Unset or blank gives an empty set (the scope alone decides); otherwise every ';'-separated entry, trimmed, must
    /// be a subject as the service accepts user ids: non-empty and at most <see cref="SignerService.MaxUserIdLength"/> characters.
    /// </summary>
    public static bool TryParse(string? text, out ImmutableHashSet<string> subjects)
    {
        subjects = ImmutableHashSet<string>.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }
        string[] entries = text.Split(';', StringSplitOptions.TrimEntries);
        if (entries.Any(entry => entry.Length is 0 or > SignerService.MaxUserIdLength))
        {
            return false;
        }
        subjects = entries.ToImmutableHashSet(StringComparer.Ordinal);
        return true;
    }
}
