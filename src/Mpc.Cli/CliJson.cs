using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Mpc.Cli;

/// <summary>
/// The one way `mpc` writes JSON (the --json of audit, keys and device list): one indented document on stdout, an
/// object at the top, camelCase names, byte arrays as lower-case hex, times as Unix milliseconds, a missing value as
/// null. Text from the server (labels, certificate subjects, audit details) is escaped by JSON as it is, not replaced as
/// <see cref="TerminalSafeWriter"/> replaces it in the human output: the encoder writes every character outside printable
/// ASCII as a \u escape, so the document shows nothing that could move a terminal's cursor. Serialized through
/// generated code, not reflection, so the natively compiled `mpc` prints the same.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, Converters = [typeof(HexBytes), typeof(UnixMilliseconds)])]
[JsonSerializable(typeof(Mpc.Client.MpcAuditEntry))]
[JsonSerializable(typeof(KeyCommands.KeysJson))]
[JsonSerializable(typeof(CustodyCommands.DevicesJson))]
internal sealed partial class CliJson : JsonSerializerContext
{
    /// <summary>Writes <paramref name="document"/> (one of the types above) to <paramref name="output"/> as one JSON document.</summary>
    public static Task WriteAsync<T>(TextWriter output, T document) where T : class =>
        output.WriteLineAsync(JsonSerializer.Serialize(document, (JsonTypeInfo<T>)Default.GetTypeInfo(typeof(T))!));

    private sealed class HexBytes : JsonConverter<byte[]>
    {
        public override byte[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Convert.FromHexString(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) => writer.WriteStringValue(Convert.ToHexStringLower(value));
    }

    // System.DateTimeOffset in full: inside this class, DateTimeOffset is the generated property of that name.
    private sealed class UnixMilliseconds : JsonConverter<System.DateTimeOffset>
    {
        public override System.DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            System.DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64());

        public override void Write(Utf8JsonWriter writer, System.DateTimeOffset value, JsonSerializerOptions options) => writer.WriteNumberValue(value.ToUnixTimeMilliseconds());
    }
}
