using System.Text.Json.Serialization;

namespace Mpc.Browser;

/// <summary>Source-generated JSON for the answers handed to JavaScript (reflection-based serialization is trimmed away).</summary>
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(List<Dictionary<string, object>>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
internal sealed partial class BrowserJson : JsonSerializerContext;
