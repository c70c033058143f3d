using System.Collections;
using System.Collections.Immutable;
using System.ComponentModel;
using System.Reflection;

namespace Mpc.Server;

/// <summary>One setting of the <c>Mpc</c> configuration section: a settable leaf property of <see cref="MpcServerOptions"/>.</summary>
/// <param name="Path">The configuration path, e.g. <c>Mpc:Signer:MaxSignaturesPerKey</c>.</param>
/// <param name="Type">The property's type (nullable when the setting may be left unset).</param>
public sealed record ServerSetting(string Path, Type Type)
{
    /// <summary>The environment variable that sets it, e.g. <c>Mpc__Signer__MaxSignaturesPerKey</c>.</summary>
    public string EnvironmentVariable => ServerSettings.EnvironmentVariable(Path);

    /// <summary>A list (bound from <c>Path:0</c>, <c>Path:1</c>, ...), not a single value.</summary>
    public bool IsList => Type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(Type);

    /// <summary>
    /// Whether <paramref name="value"/> converts to the setting's type the way the configuration binder converts it
    /// (invariant culture; empty means unset for a nullable type). Lists are left to the binder.
    /// </summary>
    public bool Accepts(string value)
    {
        if (IsList)
        {
            return true;
        }
        Type target = Nullable.GetUnderlyingType(Type) ?? Type;
        if (target == typeof(string) || (target != Type && value.Length == 0))
        {
            return true;
        }
        try
        {
            _ = TypeDescriptor.GetConverter(target).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            return false;
        }
    }

    /// <summary>What the type accepts, for error messages ("a whole number").</summary>
    public string TypeDescription
    {
        get
        {
            Type target = Nullable.GetUnderlyingType(Type) ?? Type;
            string description = target switch
            {
                _ when target == typeof(int) || target == typeof(long) => "a whole number",
                _ when target == typeof(bool) => "true or false",
                _ when target == typeof(TimeSpan) => "a duration [d.]hh:mm:ss[.fff], e.g. 00:01:30",
                _ when target.IsEnum => "one of " + string.Join(", ", Enum.GetNames(target)),
                _ => "a " + target.Name,
            };
            return target == Type ? description : description + " (or empty for the default)";
        }
    }
}

/// <summary>
/// The catalogue of server settings, found by reflection over <see cref="MpcServerOptions"/> so that a property
/// added to the options is a setting everywhere at once (binding checks, the documentation test).
/// </summary>
public static class ServerSettings
{
    /// <summary>The configuration section the server binds.</summary>
    public const string Section = "Mpc";

    private const int MaxDepth = 8;

    /// <summary>Every setting, in declaration order.</summary>
    public static ImmutableArray<ServerSetting> All { get; } = [.. Collect(typeof(MpcServerOptions), Section, depth: 0)];

    /// <summary>The environment variable for a configuration path ("Mpc:Signer:X" → "Mpc__Signer__X").</summary>
    public static string EnvironmentVariable(string path) => path.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>
    /// The setting a configuration key belongs to (case-insensitive, as configuration keys are), or null for a key
    /// no property binds. An element of a list ("Path:0") belongs to the list.
    /// </summary>
    public static ServerSetting? Find(string path) =>
        All.FirstOrDefault(s => string.Equals(s.Path, path, StringComparison.OrdinalIgnoreCase))
        ?? All.FirstOrDefault(s => s.IsList && path.StartsWith(s.Path + ":", StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<ServerSetting> Collect(Type type, string prefix, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidOperationException($"The server options nest too deeply at {prefix}.");
        }
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length != 0)
            {
                continue;
            }
            string path = prefix + ":" + property.Name;
            Type valueType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsLeaf(valueType) || typeof(IEnumerable).IsAssignableFrom(valueType))
            {
                // Computed properties (no public setter) are not settings.
                if (property.SetMethod is { IsPublic: true })
                {
                    yield return new ServerSetting(path, property.PropertyType);
                }
            }
            else if (valueType.IsClass && property.GetMethod is { IsPublic: true })
            {
                // A nested section: the binder fills it in place (or creates it, when settable).
                foreach (ServerSetting nested in Collect(valueType, path, depth + 1))
                {
                    yield return nested;
                }
            }
        }
    }

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) ||
        type == typeof(TimeSpan) || type == typeof(DateTimeOffset) || type == typeof(DateTime) ||
        type == typeof(Uri) || type == typeof(Guid);
}
