using System.Buffers;
using System.Buffers.Binary;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Encoding;

/// <summary>
/// The single binary encoding used by every protocol message and by the transcript:
/// each field is a 4-byte big-endian length followed by its bytes, so no two field
/// sequences encode to the same byte string.
/// </summary>
public sealed class WireWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public WireWriter()
        : this(256)
    {
    }

    /// <summary>
    /// For secret input: a capacity the fields fit in means the buffer never grows, so <see cref="Clear"/> zeroes the
    /// only copy.
    /// </summary>
    public WireWriter(int initialCapacity) => _buffer = new ArrayBufferWriter<byte>(initialCapacity);

    /// <summary>Zeroes what was written (the current buffer only; earlier ones left behind by growth are not reachable).</summary>
    public void Clear() => _buffer.Clear();

    public WireWriter WriteBytes(ReadOnlySpan<byte> value)
    {
        Span<byte> prefix = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, checked((uint)value.Length));
        _buffer.Write(prefix);
        _buffer.Write(value);
        return this;
    }

    public WireWriter WriteString(string value) => WriteBytes(System.Text.Encoding.UTF8.GetBytes(value));

    public WireWriter WriteUInt32(uint value)
    {
        Span<byte> buf = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(buf, value);
        return WriteBytes(buf);
    }

    /// <summary>Signed integers in minimal two's-complement big-endian form.</summary>
    public WireWriter WriteBigInteger(BigInteger value) => WriteBytes(value.ToByteArray());

    public WireWriter WriteList<T>(IReadOnlyList<T> items, Action<WireWriter, T> writeItem)
    {
        WriteUInt32(checked((uint)items.Count));
        foreach (T item in items)
        {
            writeItem(this, item);
        }
        return this;
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;
}
