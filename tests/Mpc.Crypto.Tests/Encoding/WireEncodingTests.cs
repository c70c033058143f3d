using Mpc.Crypto.Encoding;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests.Encoding;

public sealed class WireEncodingTests
{
    private static readonly BigInteger[] Integers =
    [
        BigInteger.Zero, BigInteger.One, BigInteger.One.Negate(), BigInteger.ValueOf(127), BigInteger.ValueOf(128),
        BigInteger.ValueOf(-128), BigInteger.ValueOf(-129), BigInteger.ValueOf(255), BigInteger.ValueOf(256),
        BigInteger.One.ShiftLeft(255), BigInteger.One.ShiftLeft(256).Subtract(BigInteger.One), BigInteger.One.ShiftLeft(255).Negate(),
    ];

    [Fact]
    public void What_the_writer_writes_the_reader_reads()
    {
        byte[] data = new WireWriter()
            .WriteBytes([9, 8, 7])
            .WriteBytes([])
            .WriteString("héllo")
            .WriteUInt32(0xDEADBEEF)
            .WriteList(Integers, (w, v) => w.WriteBigInteger(v))
            .ToArray();

        var reader = new WireReader(data);
        Assert.Equal(new byte[] { 9, 8, 7 }, reader.ReadByteArray("a", exactLength: 3));
        Assert.Empty(reader.ReadByteArray("b"));
        Assert.Equal("héllo", reader.ReadString("c"));
        Assert.Equal(0xDEADBEEF, reader.ReadUInt32("d"));
        IReadOnlyList<BigInteger> integers = reader.ReadList("e", Integers.Length, (ref WireReader r) => r.ReadBigInteger("i", 256));
        Assert.Equal(Integers, integers);
        Assert.True(reader.IsEmpty);
        reader.EnsureEnd("message");
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0x61, 0xC3 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    public void A_string_that_is_not_valid_UTF8_is_malformed_not_replaced(byte[] text)
    {
        byte[] data = new WireWriter().WriteBytes(text).ToArray();
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(() =>
        {
            var reader = new WireReader(data);
            reader.ReadString("key id");
        });
        Assert.Equal(MpcErrorCode.MalformedMessage, e.Code);
    }

    [Fact]
    public void A_lone_surrogate_is_written_as_valid_UTF8_and_read_back_as_the_replacement_character()
    {
        var reader = new WireReader(new WireWriter().WriteString("a\uD800b").ToArray());
        Assert.Equal("a\uFFFDb", reader.ReadString("label"));
    }

    [Fact]
    public void The_encoding_is_a_length_prefix_then_the_bytes()
    {
        Assert.Equal(new byte[] { 0, 0, 0, 2, 0x00, 0x80 }, new WireWriter().WriteBigInteger(BigInteger.ValueOf(128)).ToArray());
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0x80 }, new WireWriter().WriteBigInteger(BigInteger.ValueOf(-128)).ToArray());
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0x00 }, new WireWriter().WriteBigInteger(BigInteger.Zero).ToArray());
        Assert.Equal(new byte[] { 0, 0, 0, 4, 0, 0, 0, 5 }, new WireWriter().WriteUInt32(5).ToArray());
    }

    [Fact]
    public void Truncated_input_is_malformed()
    {
        byte[] data = new WireWriter().WriteBytes([1, 2, 3, 4]).ToArray();

        AssertMalformed(() => new WireReader([]).ReadBytes("f"));
        AssertMalformed(() => new WireReader(data.AsSpan(0, 3)).ReadBytes("f"));
        AssertMalformed(() => new WireReader(data.AsSpan(0, data.Length - 1)).ReadBytes("f"));
        AssertMalformed(() =>
        {
            var reader = new WireReader(data);
            reader.ReadBytes("first");
            reader.ReadBytes("second");
        });
    }

    [Fact]
    public void A_length_prefix_beyond_the_buffer_or_the_field_limit_is_malformed()
    {
        AssertMalformed(() => new WireReader([0, 0, 0, 10, 1, 2, 3, 4, 5]).ReadBytes("f"));
        AssertMalformed(() => new WireReader([0xFF, 0xFF, 0xFF, 0xFF, 1]).ReadBytes("f"));
        AssertMalformed(() => new WireReader([0x80, 0, 0, 0, 1]).ReadBytes("f"));
        byte[] overLimit = new byte[4 + WireReader.MaxFieldLength + 1];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(overLimit, WireReader.MaxFieldLength + 1);
        AssertMalformed(() => new WireReader(overLimit).ReadBytes("f"));
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x01 })]        // 1 with a redundant zero byte
    [InlineData(new byte[] { 0x00, 0x00 })]        // 0 in two bytes
    [InlineData(new byte[] { 0x00, 0x00, 0x80 })]  // 128 with two leading zeros
    [InlineData(new byte[] { 0xFF, 0xFF })]        // -1 in two bytes
    [InlineData(new byte[] { 0xFF, 0x80 })]        // -128 in two bytes
    public void Non_minimal_integers_are_malformed(byte[] value)
    {
        byte[] data = new WireWriter().WriteBytes(value).ToArray();

        AssertMalformed(() => new WireReader(data).ReadBigInteger("n", 256));
    }

    [Fact]
    public void Empty_integer_is_malformed()
    {
        byte[] data = new WireWriter().WriteBytes([]).ToArray();

        AssertMalformed(() => new WireReader(data).ReadBigInteger("n", 256));
    }

    [Fact]
    public void Integers_above_the_bit_limit_are_malformed()
    {
        byte[] twoTo256 = new WireWriter().WriteBigInteger(BigInteger.One.ShiftLeft(256)).ToArray();
        byte[] max256 = new WireWriter().WriteBigInteger(BigInteger.One.ShiftLeft(256).Subtract(BigInteger.One)).ToArray();
        byte[] minus2To256 = new WireWriter().WriteBigInteger(BigInteger.One.ShiftLeft(256).Negate().Subtract(BigInteger.One)).ToArray();

        AssertMalformed(() => new WireReader(twoTo256).ReadBigInteger("n", 256));
        AssertMalformed(() => new WireReader(minus2To256).ReadBigInteger("n", 256));
        AssertMalformed(() => new WireReader(max256).ReadBigInteger("n", 255));
        Assert.Equal(256, new WireReader(max256).ReadBigInteger("n", 256).BitLength);
    }

    [Fact]
    public void Trailing_bytes_are_malformed()
    {
        byte[] data = new WireWriter().WriteUInt32(1).WriteBytes([0]).ToArray();

        AssertMalformed(() =>
        {
            var reader = new WireReader(data);
            reader.ReadUInt32("a");
            reader.EnsureEnd("message");
        });
        AssertMalformed(() =>
        {
            var reader = new WireReader([.. new WireWriter().WriteUInt32(1).ToArray(), 0]);
            reader.ReadUInt32("a");
            reader.EnsureEnd("message");
        });
    }

    [Fact]
    public void A_wrong_list_count_is_malformed()
    {
        byte[] three = new WireWriter().WriteList([1u, 2u, 3u], (w, v) => w.WriteUInt32(v)).ToArray();
        byte[] claimsThreeHasTwo = new WireWriter().WriteUInt32(3).WriteUInt32(1).WriteUInt32(2).ToArray();

        AssertMalformed(() => new WireReader(three).ReadList("l", 2, (ref WireReader r) => r.ReadUInt32("i")));
        AssertMalformed(() => new WireReader(three).ReadList("l", 4, (ref WireReader r) => r.ReadUInt32("i")));
        AssertMalformed(() => new WireReader(claimsThreeHasTwo).ReadList("l", 3, (ref WireReader r) => r.ReadUInt32("i")));
        Assert.Equal([1u, 2u, 3u], new WireReader(three).ReadList("l", 3, (ref WireReader r) => r.ReadUInt32("i")));
    }

    [Fact]
    public void Fixed_size_fields_of_the_wrong_size_are_malformed()
    {
        byte[] threeBytes = new WireWriter().WriteBytes([1, 2, 3]).ToArray();
        byte[] longString = new WireWriter().WriteString(new string('x', 257)).ToArray();

        AssertMalformed(() => new WireReader(threeBytes).ReadUInt32("u"));
        AssertMalformed(() => new WireReader(threeBytes).ReadByteArray("b", exactLength: 4));
        AssertMalformed(() => new WireReader(threeBytes).ReadByteArray("b", maxLength: 2));
        AssertMalformed(() => new WireReader(longString).ReadString("s"));
        Assert.Equal(257, new WireReader(longString).ReadString("s", maxLength: 257).Length);
    }

    [Fact]
    public void BigIntegers_are_written_as_ToByteArray_encodes_them_and_read_back()
    {
        var random = new Random(7);
        BigInteger[] values =
        [
            .. Integers,
            .. Enumerable.Range(1, 300).Select(bits => new BigInteger(bits, random)),
            .. Enumerable.Range(1, 300).Select(bits => new BigInteger(bits, random).Negate()),
            BigInteger.One.ShiftLeft(2047).Add(BigInteger.One), BigInteger.One.ShiftLeft(2048).Subtract(BigInteger.One).Negate(),
        ];
        foreach (BigInteger value in values)
        {
            byte[] expected = value.ToByteArray();
            byte[] written = new WireWriter().WriteBigInteger(value).ToArray();
            byte[] prefix = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(prefix, expected.Length);
            Assert.Equal([.. prefix, .. expected], written);
            Assert.Equal(value, new WireReader(written).ReadBigInteger("n", 2048));
        }
    }

    [Fact]
    public void A_secret_array_holds_the_same_bytes_from_a_buffer_that_never_grows()
    {
        // Three 2048-bit integers: the default 256-byte writer has to grow to hold them.
        var random = new Random(11);
        BigInteger[] secrets = [.. Enumerable.Range(0, 3).Select(_ => new BigInteger(2048, random))];
        void Write(WireWriter writer) => writer.WriteUInt32(1).WriteString("key id").WriteBytes([1, 2, 3]).WriteBytes([])
            .WriteList(secrets, (w, v) => w.WriteBigInteger(v));

        var plain = new WireWriter();
        Write(plain);
        Assert.True(plain.Growths > 0);

        // The secret writer would throw rather than grow (next test), so returning at all means it never grew.
        byte[] secret = WireWriter.ToSecretArray(Write);
        Assert.Equal(plain.ToArray(), secret);

        Assert.Equal(new WireWriter().WriteBytes([]).ToArray(), WireWriter.ToSecretArray(w => w.WriteBytes([])));
    }

    [Fact]
    public void A_secret_writer_refuses_to_grow_past_what_was_counted()
    {
        int passes = 0;
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => WireWriter.ToSecretArray(writer =>
        {
            writer.WriteBytes([1, 2, 3]);
            if (++passes == 2)
            {
                writer.WriteBytes([4]);
            }
        }));
        Assert.Contains("grow", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, passes);
    }

    private static void AssertMalformed(Action action)
    {
        MpcProtocolException e = Assert.Throws<MpcProtocolException>(action);
        Assert.Equal(MpcErrorCode.MalformedMessage, e.Code);
    }
}
