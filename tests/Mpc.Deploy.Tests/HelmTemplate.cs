using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Mpc.Deploy.Tests;

/// <summary>
/// Renders a Helm chart the way <c>helm template</c> does, for the subset of Go templates the chart in
/// deploy/helm uses (helm itself is not installable on these machines: neither Debian, NuGet nor npm
/// ship it). Anything outside the subset is an error, never a guess, so a template that starts using
/// more of Helm fails this renderer's tests instead of being rendered differently from Helm.
/// <para>The subset: text with <c>{{ }}</c> actions and <c>{{-</c> / <c>-}}</c> whitespace trimming;
/// comments; <c>if</c> / <c>else</c> / <c>end</c>; fields of <c>.Values</c>, <c>.Release</c> (Name,
/// Namespace, Service) and <c>.Chart</c> (Name, Version, AppVersion); string, integer and boolean
/// literals; pipelines with the functions <c>quote</c>, <c>toYaml</c>, <c>indent</c>, <c>nindent</c>,
/// <c>default</c>, <c>required</c>, <c>not</c>, <c>eq</c>.</para>
/// <para>Values follow Helm's model: values.yaml and override files are merged (maps deeply, a null
/// deletes), and numbers are float64 as in Helm, printed as Go's <c>%v</c> prints them; a number
/// Go would print in exponent form (1e+06) is refused rather than printed differently.</para>
/// </summary>
internal static class HelmTemplate
{
    /// <summary>One rendered Kubernetes object and the template it came from.</summary>
    public sealed record RenderedObject(string Template, YamlMappingNode Document);

    /// <summary>Renders every template of <paramref name="chartDirectory"/> with values.yaml and the overrides, parsed as YAML.</summary>
    public static List<RenderedObject> Render(string chartDirectory, string releaseName, string releaseNamespace, params string[] valueFiles)
    {
        Dictionary<string, object?> values = ReadMap(Path.Combine(chartDirectory, "values.yaml"));
        foreach (string file in valueFiles)
        {
            Merge(values, ReadMap(file));
        }
        Dictionary<string, object?> chart = ReadMap(Path.Combine(chartDirectory, "Chart.yaml"));
        var root = new Dictionary<string, object?>
        {
            ["Values"] = values,
            ["Release"] = new Dictionary<string, object?> { ["Name"] = releaseName, ["Namespace"] = releaseNamespace, ["Service"] = "Helm" },
            ["Chart"] = new Dictionary<string, object?> { ["Name"] = chart["name"], ["Version"] = chart["version"], ["AppVersion"] = chart.GetValueOrDefault("appVersion") },
        };

        var objects = new List<RenderedObject>();
        foreach (string template in Directory.EnumerateFiles(Path.Combine(chartDirectory, "templates"))
                     .Where(f => !Path.GetFileName(f).StartsWith('_') && (f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)))
                     .Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(template);
            string text = RenderText(File.ReadAllText(template), root, name);
            foreach (string chunk in Regex.Split(text, @"^---[ \t]*$", RegexOptions.Multiline))
            {
                var stream = new YamlStream();
                try
                {
                    stream.Load(new StringReader(chunk));
                }
                catch (YamlException e)
                {
                    throw new InvalidOperationException($"{name} renders invalid YAML ({e.Message}):\n{chunk}", e);
                }
                foreach (YamlDocument document in stream.Documents)
                {
                    if (document.RootNode is YamlMappingNode map)
                    {
                        objects.Add(new RenderedObject(name, map));
                    }
                    else if (document.RootNode is not YamlScalarNode { Value: null or "" })
                    {
                        throw new InvalidOperationException($"{name} renders a document that is not a mapping:\n{chunk}");
                    }
                }
            }
        }
        return objects;
    }

    /// <summary>Renders one template's text.</summary>
    public static string RenderText(string template, Dictionary<string, object?> root, string name = "template")
    {
        List<Node> nodes = Parse(Lex(template, name), name);
        var output = new StringBuilder();
        Execute(nodes, root, output, name);
        return output.ToString();
    }

    // ---- lexing: text and actions, with {{- and -}} trimming ------------------------------------------

    private abstract record Token;

    private sealed record TextToken(string Text) : Token;

    private sealed record ActionToken(string Body) : Token;

    private static List<Token> Lex(string template, string name)
    {
        var tokens = new List<Token>();
        int position = 0;
        bool trimNextText = false;
        while (position < template.Length)
        {
            int open = template.IndexOf("{{", position, StringComparison.Ordinal);
            string text = open < 0 ? template[position..] : template[position..open];
            if (trimNextText)
            {
                text = text.TrimStart(' ', '\t', '\r', '\n');
            }
            if (open < 0)
            {
                tokens.Add(new TextToken(text));
                break;
            }
            int close = template.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                throw new InvalidOperationException($"{name}: unclosed action at offset {open}");
            }
            string body = template[(open + 2)..close];
            if (body.Length >= 2 && body[0] == '-' && char.IsWhiteSpace(body[1]))
            {
                text = text.TrimEnd(' ', '\t', '\r', '\n');
                body = body[1..];
            }
            trimNextText = body.Length >= 2 && body[^1] == '-' && char.IsWhiteSpace(body[^2]);
            if (trimNextText)
            {
                body = body[..^1];
            }
            tokens.Add(new TextToken(text));
            body = body.Trim();
            if (!(body.StartsWith("/*", StringComparison.Ordinal) && body.EndsWith("*/", StringComparison.Ordinal)))
            {
                tokens.Add(new ActionToken(body));
            }
            position = close + 2;
        }
        return tokens;
    }

    // ---- parsing: text, output and if/else/end -----------------------------------------------------------

    private abstract record Node;

    private sealed record TextNode(string Text) : Node;

    private sealed record OutputNode(string Pipeline) : Node;

    private sealed record IfNode(string Condition, List<Node> Then, List<Node> Else) : Node;

    private static List<Node> Parse(List<Token> tokens, string name)
    {
        int index = 0;
        List<Node> nodes = ParseBlock(tokens, ref index, name, out string? terminator);
        if (terminator is not null)
        {
            throw new InvalidOperationException($"{name}: '{terminator}' without an open if");
        }
        return nodes;
    }

    private static List<Node> ParseBlock(List<Token> tokens, ref int index, string name, out string? terminator)
    {
        var nodes = new List<Node>();
        while (index < tokens.Count)
        {
            Token token = tokens[index++];
            if (token is TextToken text)
            {
                nodes.Add(new TextNode(text.Text));
                continue;
            }
            string body = ((ActionToken)token).Body;
            string keyword = body.Split(' ', 2)[0];
            switch (keyword)
            {
                case "if":
                    nodes.Add(ParseIf(body[2..].Trim(), tokens, ref index, name));
                    break;
                case "else":
                case "end":
                    terminator = body;
                    return nodes;
                case "range" or "with" or "define" or "template" or "block" or "include" or "tpl" or "break" or "continue":
                    throw new NotSupportedException($"{name}: '{keyword}' is outside the template subset this renderer checks (see HelmTemplate)");
                default:
                    if (body.StartsWith('$'))
                    {
                        throw new NotSupportedException($"{name}: variables ('{body}') are outside the template subset");
                    }
                    nodes.Add(new OutputNode(body));
                    break;
            }
        }
        terminator = null;
        return nodes;
    }

    private static IfNode ParseIf(string condition, List<Token> tokens, ref int index, string name)
    {
        List<Node> then = ParseBlock(tokens, ref index, name, out string? terminator);
        var otherwise = new List<Node>();
        if (terminator is null)
        {
            throw new InvalidOperationException($"{name}: 'if {condition}' is never closed");
        }
        if (terminator.StartsWith("else if ", StringComparison.Ordinal))
        {
            // "else if X ... end" closes both: parse it as a nested if that consumes the shared end.
            otherwise.Add(ParseIf(terminator["else if ".Length..].Trim(), tokens, ref index, name));
        }
        else if (terminator == "else")
        {
            otherwise = ParseBlock(tokens, ref index, name, out terminator);
            if (terminator != "end")
            {
                throw new InvalidOperationException($"{name}: 'else' of 'if {condition}' is closed by '{terminator ?? "end of file"}'");
            }
        }
        else if (terminator != "end")
        {
            throw new InvalidOperationException($"{name}: unexpected '{terminator}'");
        }
        return new IfNode(condition, then, otherwise);
    }

    // ---- execution ----------------------------------------------------------------------------------------------

    private static void Execute(List<Node> nodes, Dictionary<string, object?> root, StringBuilder output, string name)
    {
        foreach (Node node in nodes)
        {
            switch (node)
            {
                case TextNode text:
                    output.Append(text.Text);
                    break;
                case OutputNode action:
                    output.Append(Print(EvaluatePipeline(action.Pipeline, root, name), name));
                    break;
                case IfNode conditional:
                    Execute(IsTrue(EvaluatePipeline(conditional.Condition, root, name)) ? conditional.Then : conditional.Else, root, output, name);
                    break;
            }
        }
    }

    private static object? EvaluatePipeline(string pipeline, Dictionary<string, object?> root, string name)
    {
        if (Regex.Replace(pipeline, @"""(?:[^""\\]|\\.)*""", "").Contains('(', StringComparison.Ordinal))
        {
            throw new NotSupportedException($"{name}: parenthesised expressions ('{pipeline}') are outside the template subset");
        }
        object? value = null;
        bool piped = false;
        foreach (string command in SplitOutsideQuotes(pipeline, '|'))
        {
            List<string> words = SplitOutsideQuotes(command, ' ').Select(w => w.Trim()).Where(w => w.Length > 0).ToList();
            if (words.Count == 0)
            {
                throw new InvalidOperationException($"{name}: empty command in '{pipeline}'");
            }
            var arguments = words.Skip(1).Select(w => Operand(w, root, name)).ToList();
            if (piped)
            {
                arguments.Add(value);
            }
            value = IsFunctionName(words[0])
                ? Call(words[0], arguments, name)
                : arguments.Count == 0 ? Operand(words[0], root, name)
                : throw new InvalidOperationException($"{name}: '{words[0]}' is not a function and takes no arguments");
            piped = true;
        }
        return value;
    }

    private static bool IsFunctionName(string word) => word.Length > 0 && char.IsLetter(word[0]) && word is not ("true" or "false" or "nil");

    private static object? Operand(string word, Dictionary<string, object?> root, string name)
    {
        if (word.StartsWith('"'))
        {
            return JsonSerializer.Deserialize<string>(word);
        }
        if (word is "true" or "false")
        {
            return word == "true";
        }
        if (long.TryParse(word, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
        {
            return (double)number;
        }
        if (!word.StartsWith('.'))
        {
            throw new NotSupportedException($"{name}: operand '{word}' is outside the template subset");
        }
        object? current = root;
        string walked = "";
        foreach (string field in word[1..].Split('.'))
        {
            if (current is not Dictionary<string, object?> map)
            {
                // Go templates fail here too: "nil pointer evaluating interface {}.field".
                throw new InvalidOperationException($"{name}: {word}: '{walked}' is not a map");
            }
            current = map.GetValueOrDefault(field);
            walked += "." + field;
        }
        return current;
    }

    private static object? Call(string function, List<object?> arguments, string name)
    {
        void Arity(int count)
        {
            if (arguments.Count != count)
            {
                throw new InvalidOperationException($"{name}: {function} takes {count} arguments, given {arguments.Count}");
            }
        }

        switch (function)
        {
            case "quote":
                return string.Join(' ', arguments.Where(a => a is not null).Select(a => JsonSerializer.Serialize(Print(a, name))));
            case "toYaml":
                Arity(1);
                return ToYaml(arguments[0]).TrimEnd('\n');
            case "indent":
                Arity(2);
                return Indent(arguments[1], arguments[0], name);
            case "nindent":
                Arity(2);
                return "\n" + Indent(arguments[1], arguments[0], name);
            case "default":
                Arity(2);
                return IsTrue(arguments[1]) ? arguments[1] : arguments[0];
            case "required":
                Arity(2);
                return arguments[1] is null or "" ? throw new RequiredValueException($"{name}: {arguments[0]}") : arguments[1];
            case "not":
                Arity(1);
                return !IsTrue(arguments[0]);
            case "eq":
                Arity(2);
                return Equals(arguments[0], arguments[1]);
            default:
                throw new NotSupportedException($"{name}: function '{function}' is outside the template subset");
        }
    }

    private static string Indent(object? text, object? width, string name)
    {
        string pad = new(' ', width is double w ? (int)w : throw new InvalidOperationException($"{name}: indent width must be a number"));
        return pad + Print(text, name).Replace("\n", "\n" + pad, StringComparison.Ordinal);
    }

    /// <summary>Go template truth: false, 0, nil, and empty strings, maps and lists are false.</summary>
    private static bool IsTrue(object? value) => value switch
    {
        null => false,
        bool b => b,
        double d => d != 0,
        string s => s.Length != 0,
        Dictionary<string, object?> map => map.Count != 0,
        List<object?> list => list.Count != 0,
        _ => true,
    };

    /// <summary>What {{ value }} prints: Go's %v for strings, booleans and float64; Helm prints nothing for a missing value.</summary>
    private static string Print(object? value, string name) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        double d => FormatNumber(d, name),
        _ => throw new NotSupportedException($"{name}: printing a map or list directly (use toYaml)"),
    };

    private static string FormatNumber(double number, string name)
    {
        double magnitude = Math.Abs(number);
        if (magnitude != 0 && (magnitude >= 1e6 || magnitude < 1e-4))
        {
            throw new NotSupportedException($"{name}: Go prints {number.ToString(CultureInfo.InvariantCulture)} in exponent form; quote it in the values");
        }
        return number.ToString("R", CultureInfo.InvariantCulture);
    }

    private static List<string> SplitOutsideQuotes(string text, char separator)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '"' && (i == 0 || text[i - 1] != '\\'))
            {
                quoted = !quoted;
            }
            if (c == separator && !quoted)
            {
                parts.Add(current.ToString());
                current.Clear();
                continue;
            }
            current.Append(c);
        }
        parts.Add(current.ToString());
        return parts;
    }

    // ---- values: YAML in Helm's JSON model, merging, toYaml --------------------------------------------

    private static Dictionary<string, object?> ReadMap(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }
        if (stream.Documents.Count == 0)
        {
            return [];
        }
        return ToValue(stream.Documents[0].RootNode) as Dictionary<string, object?>
            ?? throw new InvalidOperationException($"{path} is not a YAML mapping");
    }

    private static object? ToValue(YamlNode node) => node switch
    {
        YamlMappingNode map => map.Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => ToValue(e.Value)),
        YamlSequenceNode list => list.Children.Select(ToValue).ToList(),
        YamlScalarNode scalar => ScalarValue(scalar),
        _ => throw new NotSupportedException($"YAML node {node.NodeType}"),
    };

    /// <summary>YAML 1.1 resolution of plain scalars into Helm's JSON types (every number a float64).</summary>
    private static object? ScalarValue(YamlScalarNode scalar)
    {
        string text = scalar.Value ?? "";
        if (scalar.Style is not ScalarStyle.Plain)
        {
            return text;
        }
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE" or "yes" or "Yes" or "on" or "On":
                return true;
            case "false" or "False" or "FALSE" or "no" or "No" or "off" or "Off":
                return false;
        }
        if (Regex.IsMatch(text, @"^0[0-7]+$"))
        {
            return (double)Convert.ToInt64(text, 8);
        }
        if (Regex.IsMatch(text, @"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$"))
        {
            return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        return text;
    }

    /// <summary>Helm's coalescing of an override into values: maps merge key by key, a null deletes, anything else replaces.</summary>
    private static void Merge(Dictionary<string, object?> target, Dictionary<string, object?> source)
    {
        foreach ((string key, object? value) in source)
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is Dictionary<string, object?> sourceMap && target.GetValueOrDefault(key) is Dictionary<string, object?> targetMap)
            {
                Merge(targetMap, sourceMap);
            }
            else
            {
                target[key] = value;
            }
        }
    }

    /// <summary>Block YAML with sorted keys (as Helm's toYaml); strings that would read back as another type are quoted.</summary>
    private static string ToYaml(object? value)
    {
        var builder = new StringBuilder();
        WriteYaml(builder, value, 0);
        return builder.ToString();
    }

    /// <summary>go-yaml's layout: a sequence under a key is not indented; a map or sequence item starts on the dash's line.</summary>
    private static void WriteYaml(StringBuilder builder, object? value, int indent)
    {
        string pad = new(' ', indent);
        switch (value)
        {
            case Dictionary<string, object?> { Count: > 0 } map:
                foreach ((string key, object? item) in map.OrderBy(e => e.Key, StringComparer.Ordinal))
                {
                    builder.Append(pad).Append(YamlScalar(key)).Append(':');
                    if (item is Dictionary<string, object?> { Count: > 0 } or List<object?> { Count: > 0 })
                    {
                        builder.Append('\n');
                        WriteYaml(builder, item, item is List<object?> ? indent : indent + 2);
                    }
                    else
                    {
                        builder.Append(' ').Append(Inline(item)).Append('\n');
                    }
                }
                break;
            case List<object?> { Count: > 0 } list:
                foreach (object? item in list)
                {
                    if (item is Dictionary<string, object?> { Count: > 0 } or List<object?> { Count: > 0 })
                    {
                        var nested = new StringBuilder();
                        WriteYaml(nested, item, indent + 2);
                        builder.Append(pad).Append("- ").Append(nested.ToString(indent + 2, nested.Length - indent - 2));
                    }
                    else
                    {
                        builder.Append(pad).Append("- ").Append(Inline(item)).Append('\n');
                    }
                }
                break;
            default:
                builder.Append(pad).Append(Inline(value)).Append('\n');
                break;
        }
    }

    private static string Inline(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s => YamlScalar(s),
        Dictionary<string, object?> => "{}",
        List<object?> => "[]",
        _ => throw new NotSupportedException(value.GetType().Name),
    };

    private static string YamlScalar(string text)
    {
        bool plain = text.Length > 0
                     && ScalarValue(new YamlScalarNode(text) { Style = ScalarStyle.Plain }) is string
                     && !char.IsWhiteSpace(text[0]) && !char.IsWhiteSpace(text[^1])
                     && "-?:,[]{}#&*!|>'\"%@`".IndexOf(text[0], StringComparison.Ordinal) < 0
                     && !text.Contains(": ", StringComparison.Ordinal) && !text.Contains(" #", StringComparison.Ordinal)
                     && !text.EndsWith(':') && !text.Any(char.IsControl);
        return plain ? text : JsonSerializer.Serialize(text);
    }
}

/// <summary>A <c>required</c> value is missing: Helm stops with this message.</summary>
internal sealed class RequiredValueException(string message) : Exception(message);
