using System.Buffers.Text;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;

namespace Mpc.Client.Custody;

/// <summary>
/// The public half of a device enrolment request, as the new device shows it: an ephemeral P-256 ECDH public key,
/// a 16-byte random request id and the creation time. Carried to the existing device as a short text token
/// (<c>mpc-enrol1:</c> + base64url). It holds nothing secret.
/// </summary>
public sealed record EnrolmentRequest
{
    internal const string TokenPrefix = "mpc-enrol1:";
    internal const int RequestIdLength = 16;
    private const int MaxTokenLength = 1024;

    private readonly byte[] _requestId;
    private readonly byte[] _publicKey;

    internal EnrolmentRequest(byte[] requestId, byte[] publicKey, DateTimeOffset createdAt)
    {
        _requestId = requestId.ToArray();
        _publicKey = publicKey.ToArray();
        CreatedAt = CustodyFields.Truncate(createdAt);
    }

    /// <summary>16 random bytes naming this request; a handover is bound to it.</summary>
    public byte[] RequestId => _requestId.ToArray();

    /// <summary>The new device's ephemeral ECDH key, compressed SEC1 on P-256.</summary>
    public byte[] PublicKey => _publicKey.ToArray();

    /// <summary>When the new device made the request (its clock), to the millisecond.</summary>
    public DateTimeOffset CreatedAt { get; }

    internal ReadOnlySpan<byte> RequestIdSpan => _requestId;

    internal ReadOnlySpan<byte> PublicKeySpan => _publicKey;

    /// <summary><c>mpc-enrol1:</c> followed by the base64url (no padding) of request id, public key and creation time.</summary>
    public string ToToken() => TokenPrefix + Base64Url.EncodeToString(new WireWriter()
        .WriteBytes(_requestId)
        .WriteBytes(_publicKey)
        .WriteTime(CreatedAt)
        .WrittenSpan);

    /// <summary>Parses a token as <see cref="ToToken"/> writes it (surrounding white space is ignored).</summary>
    /// <exception cref="CustodyException">The text is not an enrolment request token of this version, or is damaged.</exception>
    public static EnrolmentRequest Parse(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        string text = token.Trim();
        if (!text.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            throw Tokens.Unexpected(text, "an enrolment request token", "mpc-enrol");
        }
        if (text.Length > MaxTokenLength)
        {
            throw new CustodyException(CustodyErrorReason.Corrupt, "enrolment request token is far too long");
        }
        try
        {
            byte[] bytes = Base64Url.DecodeFromChars(text.AsSpan(TokenPrefix.Length));
            var reader = new WireReader(bytes);
            byte[] requestId = reader.ReadByteArray("request id", exactLength: RequestIdLength);
            byte[] publicKey = CustodyFields.ReadPoint(ref reader, CurveKind.P256, "request public key");
            DateTimeOffset createdAt = CustodyFields.ReadTime(ref reader, "created at");
            reader.EnsureEnd("enrolment request");
            return new EnrolmentRequest(requestId, publicKey, createdAt);
        }
        catch (Exception e) when (e is FormatException or MpcProtocolException)
        {
            throw new CustodyException(CustodyErrorReason.Corrupt, "enrolment request token is damaged (copy it again in full)", e);
        }
    }

    /// <summary>Refuses a request older than <paramref name="lifetime"/>, or dated further ahead than clocks plausibly drift.</summary>
    internal void RequireFresh(TimeProvider timeProvider, TimeSpan lifetime)
    {
        DateTimeOffset now = timeProvider.GetUtcNow();
        if (CreatedAt < now - lifetime)
        {
            throw new CustodyException(CustodyErrorReason.Expired,
                $"enrolment request expired: requests last {lifetime.TotalMinutes:0} minutes; make a new one on the new device");
        }
        if (CreatedAt > now + Tokens.MaxClockSkew)
        {
            throw new CustodyException(CustodyErrorReason.Expired,
                "enrolment request is dated in the future: check both devices' clocks and make a new request");
        }
    }

    public bool Equals(EnrolmentRequest? other) =>
        other is not null
        && _requestId.AsSpan().SequenceEqual(other._requestId)
        && _publicKey.AsSpan().SequenceEqual(other._publicKey)
        && CreatedAt.Equals(other.CreatedAt);

    public override int GetHashCode() => HashCode.Combine(Convert.ToHexString(_requestId), CreatedAt);

    public override string ToString() => $"EnrolmentRequest({Convert.ToHexStringLower(_requestId)}, created {CreatedAt:u})";
}

/// <summary>The text tokens of the handover channel: one-line errors that say what was pasted instead.</summary>
internal static class Tokens
{
    /// <summary>How far ahead of the reader's clock a request may be dated (two devices' clocks differ).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public static CustodyException Unexpected(string text, string expected, string familyPrefix)
    {
        if (text.StartsWith(DeviceHandover.Prefix, StringComparison.Ordinal) && familyPrefix != "mpc-handover")
        {
            return new CustodyException(CustodyErrorReason.WrongKind, $"this is a device handover, not {expected}");
        }
        if (text.StartsWith(EnrolmentRequest.TokenPrefix, StringComparison.Ordinal) && familyPrefix != "mpc-enrol")
        {
            return new CustodyException(CustodyErrorReason.WrongKind, $"this is an enrolment request token, not {expected}");
        }
        if (text.StartsWith(familyPrefix, StringComparison.Ordinal))
        {
            return new CustodyException(CustodyErrorReason.UnsupportedVersion, $"{expected} of a version this client does not support");
        }
        return new CustodyException(CustodyErrorReason.WrongKind, $"not {expected}");
    }
}
