using System.Buffers.Binary;
using System.Security.Cryptography;
using Mpc.Crypto;
using Mpc.Crypto.Encoding;
using Orleans.Runtime;

namespace Mpc.Grains.Storage;

/// <summary>
/// The on-disk format of one grain state file written by <see cref="FileGrainStorage"/>.
/// </summary>
/// <remarks>
/// In <see cref="WireWriter"/> framing: "mpc-signer/grain-state", format version (1), state name, grain type,
/// grain key, version (uint64), ETag, payload (Orleans' binary serializer), then SHA-256 of everything before it.
/// </remarks>
internal static class GrainStateFileFormat
{
    private const string Magic = "mpc-signer/grain-state";
    private const uint FormatVersion = 1;
    private const int ChecksumFieldLength = 4 + 32;

    public static byte[] Encode(string stateName, GrainId grainId, ulong version, string etag, byte[] payload)
    {
        Span<byte> versionBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(versionBytes, version);
        var writer = new WireWriter()
            .WriteString(Magic)
            .WriteUInt32(FormatVersion)
            .WriteString(stateName)
            .WriteString(grainId.Type.ToString()!)
            .WriteString(grainId.Key.ToString()!)
            .WriteBytes(versionBytes)
            .WriteString(etag)
            .WriteBytes(payload);
        writer.WriteBytes(SHA256.HashData(writer.WrittenSpan));
        return writer.ToArray();
    }

    public static StoredRecord Decode(string path, byte[] contents, string stateName, GrainId grainId)
    {
        if (contents.Length < ChecksumFieldLength)
        {
            throw new CorruptGrainStateException(path, $"it is {contents.Length} bytes long, too short to be a state file");
        }
        ReadOnlySpan<byte> body = contents.AsSpan(0, contents.Length - ChecksumFieldLength);
        try
        {
            var trailer = new WireReader(contents.AsSpan(body.Length));
            byte[] checksum = trailer.ReadByteArray("checksum", exactLength: 32);
            if (!CryptographicOperations.FixedTimeEquals(checksum, SHA256.HashData(body)))
            {
                throw new CorruptGrainStateException(path, "its checksum does not match (truncated or altered)");
            }

            var reader = new WireReader(body);
            if (reader.ReadString("magic") != Magic)
            {
                throw new CorruptGrainStateException(path, "it is not a grain state file");
            }
            uint format = reader.ReadUInt32("format version");
            if (format != FormatVersion)
            {
                throw new CorruptGrainStateException(path, $"its format version {format} is not supported (expected {FormatVersion})");
            }
            string storedStateName = reader.ReadString("state name");
            string storedType = reader.ReadString("grain type", maxLength: 4096);
            string storedKey = reader.ReadString("grain key", maxLength: 4096);
            if (storedStateName != stateName || storedType != grainId.Type.ToString() || storedKey != grainId.Key.ToString())
            {
                throw new CorruptGrainStateException(
                    path, $"it holds state '{storedStateName}' of {storedType}/{storedKey}, not '{stateName}' of {grainId}");
            }
            ulong version = BinaryPrimitives.ReadUInt64BigEndian(reader.ReadByteArray("version", exactLength: 8));
            string etag = reader.ReadString("etag");
            byte[] payload = reader.ReadByteArray("payload");
            reader.EnsureEnd("grain state file");
            return new StoredRecord(version, etag, payload);
        }
        catch (MpcProtocolException ex)
        {
            throw new CorruptGrainStateException(path, ex.Message, ex);
        }
    }

    public sealed record StoredRecord(ulong Version, string ETag, byte[] Payload);
}
