using System.Buffers.Binary;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Encoding;

/// <summary>Reads what <see cref="WireWriter"/> wrote; any deviation is a <see cref="MpcErrorCode.MalformedMessage"/>.</summary>
public ref struct WireReader
{
    /// <summary>No single field of any message is larger than this (a 128-round proof is ~70 KiB in total).</summary>
    public const int MaxFieldLength = 1 << 20;

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private ReadOnlySpan<byte> _remaining;

    public WireReader(ReadOnlySpan<byte> data) => _remaining = data;

    public readonly bool IsEmpty => _remaining.IsEmpty;

    public ReadOnlySpan<byte> ReadBytes(string field)
    {
        if (_remaining.Length < 4)
        {
            throw Error.Malformed($"{field} is truncated");
        }
        uint length = BinaryPrimitives.ReadUInt32BigEndian(_remaining);
        if (length > MaxFieldLength || length > (uint)(_remaining.Length - 4))
        {
            throw Error.Malformed($"{field} has an invalid length");
        }
        ReadOnlySpan<byte> value = _remaining.Slice(4, (int)length);
        _remaining = _remaining[(4 + (int)length)..];
        return value;
    }

    public byte[] ReadByteArray(string field, int exactLength = -1, int maxLength = MaxFieldLength)
    {
        ReadOnlySpan<byte> value = ReadBytes(field);
        if (exactLength >= 0 && value.Length != exactLength)
        {
            throw Error.Malformed($"{field} must be {exactLength} bytes");
        }
        if (value.Length > maxLength)
        {
            throw Error.Malformed($"{field} is too long");
        }
        return value.ToArray();
    }

    public string ReadString(string field, int maxLength = 256)
    {
        ReadOnlySpan<byte> value = ReadBytes(field);
        if (value.Length > maxLength)
        {
            throw Error.Malformed($"{field} is too long");
        }
        try
        {
            return StrictUtf8.GetString(value);
        }
        catch (System.Text.DecoderFallbackException)
        {
            // WireWriter writes strings as UTF-8 (a lone surrogate as U+FFFD's bytes), so invalid UTF-8 was never written:
            // decoding it leniently would accept bytes that re-encode differently, two spellings of one message.
            throw Error.Malformed($"{field} is not valid UTF-8");
        }
    }

    public uint ReadUInt32(string field)
    {
        ReadOnlySpan<byte> value = ReadBytes(field);
        if (value.Length != 4)
        {
            throw Error.Malformed($"{field} must be 4 bytes");
        }
        return BinaryPrimitives.ReadUInt32BigEndian(value);
    }

    /// <summary>
    /// Reads a signed integer and insists on the minimal encoding, so every value has exactly one form. Secrets (Paillier
    /// primes, ring-Pedersen trapdoors) are read here too: a non-negative value is decoded straight from the input, and
    /// the copy BouncyCastle's signed constructor needs for a negative one is zeroed.
    /// </summary>
    public BigInteger ReadBigInteger(string field, int maxBits)
    {
        ReadOnlySpan<byte> value = ReadBytes(field);
        if (value.IsEmpty)
        {
            throw Error.Malformed($"{field} is empty");
        }
        BigInteger result = value[0] < 0x80 ? new BigInteger(1, value) : Negative(value);
        if (result.BitLength > maxBits)
        {
            throw Error.Malformed($"{field} is larger than {maxBits} bits");
        }
        if (result.GetLengthofByteArray() != value.Length)
        {
            throw Error.Malformed($"{field} is not minimally encoded");
        }
        return result;
    }

    /// <summary>A list of 0 to <paramref name="maxCount"/> entries; a longer count is refused before any entry is read.</summary>
    public IReadOnlyList<T> ReadListOfAtMost<T>(string field, int maxCount, ReadItem<T> readItem)
    {
        uint count = ReadUInt32(field + " count");
        if (count > (uint)maxCount)
        {
            throw Error.Malformed($"{field} may have at most {maxCount} entries");
        }
        var items = new T[count];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = readItem(ref this);
        }
        return items;
    }

    public IReadOnlyList<T> ReadList<T>(string field, int exactCount, ReadItem<T> readItem)
    {
        uint count = ReadUInt32(field + " count");
        if (count != (uint)exactCount)
        {
            throw Error.Malformed($"{field} must have {exactCount} entries");
        }
        var items = new T[exactCount];
        for (int i = 0; i < exactCount; i++)
        {
            items[i] = readItem(ref this);
        }
        return items;
    }

    public readonly void EnsureEnd(string message)
    {
        if (!_remaining.IsEmpty)
        {
            throw Error.Malformed($"{message} has trailing bytes");
        }
    }

    public delegate T ReadItem<T>(ref WireReader reader);

    private static BigInteger Negative(ReadOnlySpan<byte> twosComplement)
    {
        byte[] copy = twosComplement.ToArray();
        try
        {
            return new BigInteger(copy);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(copy);
        }
    }
}
