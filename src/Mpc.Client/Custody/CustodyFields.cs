using System.Buffers.Binary;
using Mpc.Client.KeyStore;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Protocol;

namespace Mpc.Client.Custody;

/// <summary>
/// The clear fields backups and handovers share, written with <see cref="WireWriter"/> and checked on the way in
/// with the same rules the key file applies, so every file names users, keys and curves the same way.
/// </summary>
internal static class CustodyFields
{
    public const int MaxDeviceIdLength = 128;

    public static void RequireUserId(string userId, string parameter)
    {
        if (!ClientKeyFile.IsValidUserId(userId))
        {
            throw new ArgumentException("User id must be 1-256 characters without control characters.", parameter);
        }
    }

    public static void RequireKeyId(string keyId, string parameter)
    {
        if (!KeyIds.IsValid(keyId))
        {
            throw new ArgumentException(KeyIds.Invalid, parameter);
        }
    }

    public static void RequireDeviceId(string deviceId, string parameter)
    {
        if (!IsValidDeviceId(deviceId))
        {
            throw new ArgumentException($"Device id must be 1-{MaxDeviceIdLength} characters without control characters.", parameter);
        }
    }

    /// <summary>Requires a canonical compressed SEC1 point on <paramref name="curve"/>.</summary>
    public static void RequirePublicKey(CurveKind curve, byte[] publicKey, string parameter)
    {
        try
        {
            EcCurve.Get(curve).DecodePoint(publicKey, "public key");
        }
        catch (MpcProtocolException e)
        {
            throw new ArgumentException("Public key must be a compressed SEC1 point on the key's curve.", parameter, e);
        }
    }

    public static bool IsValidDeviceId(string? deviceId) =>
        !string.IsNullOrEmpty(deviceId) && deviceId.Length <= MaxDeviceIdLength && !deviceId.Any(char.IsControl);

    public static WireWriter WriteCurve(this WireWriter writer, CurveKind curve) => writer.WriteString(EcCurve.NameOf(curve));

    /// <summary>Whole milliseconds since the Unix epoch, 8 bytes big-endian: one value per instant, whatever the offset.</summary>
    public static WireWriter WriteTime(this WireWriter writer, DateTimeOffset time)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(buffer, time.ToUnixTimeMilliseconds());
        return writer.WriteBytes(buffer);
    }

    /// <summary>The instant as written, in UTC, truncated to whole milliseconds.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset time) => DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());

    // The readers below throw CustodyError.Corrupt-style exceptions through the envelope, which maps
    // MpcProtocolException (malformed framing) and FormatException (a field that fails its rule) alike.

    public static string ReadUserId(ref WireReader reader)
    {
        string userId = reader.ReadString("user id", 1024);
        return ClientKeyFile.IsValidUserId(userId) ? userId : throw new FormatException("user id is not valid");
    }

    public static string ReadKeyId(ref WireReader reader)
    {
        string keyId = reader.ReadString("key id", 64);
        return KeyIds.IsValid(keyId) ? keyId : throw new FormatException("key id is not valid");
    }

    public static string ReadDeviceId(ref WireReader reader, string field)
    {
        string deviceId = reader.ReadString(field, 4 * MaxDeviceIdLength);
        return IsValidDeviceId(deviceId) ? deviceId : throw new FormatException($"{field} is not valid");
    }

    /// <summary>Only the canonical names this client writes; aliases would let two spellings share one ciphertext.</summary>
    public static CurveKind ReadCurve(ref WireReader reader)
    {
        string name = reader.ReadString("curve", 16);
        foreach (CurveKind kind in Enum.GetValues<CurveKind>())
        {
            if (string.Equals(EcCurve.NameOf(kind), name, StringComparison.Ordinal))
            {
                return kind;
            }
        }
        throw new FormatException("curve is not supported");
    }

    /// <summary>Reads a compressed point and checks it is on <paramref name="curve"/> (throws MpcProtocolException otherwise).</summary>
    public static byte[] ReadPoint(ref WireReader reader, CurveKind curve, string field)
    {
        byte[] point = reader.ReadByteArray(field, maxLength: 256);
        EcCurve.Get(curve).DecodePoint(point, field);
        return point;
    }

    public static DateTimeOffset ReadTime(ref WireReader reader, string field)
    {
        byte[] bytes = reader.ReadByteArray(field, exactLength: 8);
        long milliseconds = BinaryPrimitives.ReadInt64BigEndian(bytes);
        if (milliseconds < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || milliseconds > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new FormatException($"{field} is out of range");
        }
        return DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
    }
}
