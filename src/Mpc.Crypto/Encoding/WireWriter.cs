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
    private const int PrefixLength = 4;

    /// <summary>Null for the counting pass of <see cref="ToSecretArray"/>, which only adds up field lengths.</summary>
    private readonly ArrayBufferWriter<byte>? _buffer;

    /// <summary>A writer for secrets: growing would abandon a copy of what was written, so it refuses to.</summary>
    private readonly bool _fixedSize;

    private int _counted;

    public WireWriter()
        : this(256)
    {
    }

    /// <summary>A writer whose buffer starts at <paramref name="initialCapacity"/> bytes and grows as needed; for secrets use <see cref="ToSecretArray"/>.</summary>
    public WireWriter(int initialCapacity) => _buffer = new ArrayBufferWriter<byte>(initialCapacity);

    private WireWriter(ArrayBufferWriter<byte>? buffer, bool fixedSize)
    {
        _buffer = buffer;
        _fixedSize = fixedSize;
    }

    /// <summary>
    /// How many times this writer has had to grow its buffer (each growth leaves the old buffer, with everything written
    /// so far, behind uncleared). A writer from <see cref="ToSecretArray"/> never does: it throws instead.
    /// </summary>
    internal int Growths { get; private set; }

    /// <summary>
    /// Encodes secret fields: <paramref name="write"/> runs once to count their length and once to write them into a
    /// buffer of exactly that size, which never grows (a second pass that writes more than the first throws
    /// <see cref="InvalidOperationException"/>) and is zeroed before this returns. The caller zeroes the result.
    /// </summary>
    public static byte[] ToSecretArray(Action<WireWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var counter = new WireWriter(null, fixedSize: false);
        write(counter);
        var writer = new WireWriter(new ArrayBufferWriter<byte>(Math.Max(1, counter._counted)), fixedSize: true);
        try
        {
            write(writer);
            return writer.ToArray();
        }
        finally
        {
            writer.Clear();
        }
    }

    /// <summary>Zeroes what was written (the current buffer only; earlier ones left behind by growth are not reachable).</summary>
    public void Clear() => _buffer?.Clear();

    public WireWriter WriteBytes(ReadOnlySpan<byte> value)
    {
        if (BeginField(value.Length, out Span<byte> destination))
        {
            value.CopyTo(destination);
            EndField(value.Length);
        }
        return this;
    }

    public WireWriter WriteString(string value) => WriteBytes(System.Text.Encoding.UTF8.GetBytes(value));

    public WireWriter WriteUInt32(uint value)
    {
        Span<byte> buf = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(buf, value);
        return WriteBytes(buf);
    }

    /// <summary>
    /// Signed integers in minimal two's-complement big-endian form, encoded straight into the buffer: no temporary
    /// array is made, so secrets (Paillier primes, ring-Pedersen trapdoors) go through here too.
    /// </summary>
    public WireWriter WriteBigInteger(BigInteger value)
    {
        int length = value.GetLengthofByteArray();
        if (BeginField(length, out Span<byte> destination))
        {
            value.ToByteArray(destination);
            EndField(length);
        }
        return this;
    }

    public WireWriter WriteList<T>(IReadOnlyList<T> items, Action<WireWriter, T> writeItem)
    {
        WriteUInt32(checked((uint)items.Count));
        foreach (T item in items)
        {
            writeItem(this, item);
        }
        return this;
    }

    public byte[] ToArray() => Written.WrittenSpan.ToArray();

    public ReadOnlySpan<byte> WrittenSpan => Written.WrittenSpan;

    private ArrayBufferWriter<byte> Written => _buffer ?? throw new InvalidOperationException("A counting writer holds no bytes.");

    /// <summary>
    /// Writes the length prefix of a field of <paramref name="length"/> bytes and hands out where its bytes go; false
    /// (nothing to write) on the counting pass.
    /// </summary>
    private bool BeginField(int length, out Span<byte> destination)
    {
        int total = checked(PrefixLength + length);
        if (_buffer is null)
        {
            _counted = checked(_counted + total);
            destination = default;
            return false;
        }
        if (_buffer.FreeCapacity < total)
        {
            Growths++;
            if (_fixedSize)
            {
                Clear();
                throw new InvalidOperationException("A writer sized for secrets would have to grow: the fields written differ from the fields counted.");
            }
        }
        Span<byte> field = _buffer.GetSpan(total);
        BinaryPrimitives.WriteUInt32BigEndian(field, checked((uint)length));
        destination = field.Slice(PrefixLength, length);
        return true;
    }

    private void EndField(int length) => _buffer!.Advance(PrefixLength + length);
}
