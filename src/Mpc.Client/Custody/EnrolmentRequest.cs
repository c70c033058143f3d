using System.Buffers.Text;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;

namespace Mpc.Client.Custody;

/// <summary>
/// The public half of a device enrolment request, as the new device shows it: an ephemeral P-256 ECDH public key,
/// a 16-byte random request id, the id of the key to enrol for and the creation time. Carried to the existing
/// device as a short text token (<c>mpc-enrol2:</c> + base64url). It holds nothing secret, but the channel that
/// carries it is not trusted: the new device also shows <see cref="ConfirmationCode"/>, which the user types into
/// the existing device, and the existing device seals nothing to a token whose code differs
/// (<see cref="DeviceHandover.Seal"/>).
/// </summary>
public sealed record EnrolmentRequest
{
    internal const string TokenPrefix = "mpc-enrol2:";
    internal const int RequestIdLength = 16;
    private const int MaxTokenLength = 1024;

    private readonly byte[] _requestId;
    private readonly byte[] _publicKey;
    private string? _confirmationCode;

    internal EnrolmentRequest(byte[] requestId, byte[] publicKey, string keyId, DateTimeOffset createdAt)
    {
        _requestId = requestId.ToArray();
        _publicKey = publicKey.ToArray();
        KeyId = keyId;
        CreatedAt = CustodyFields.Truncate(createdAt);
    }

    /// <summary>The key the new device asks to be enrolled for; the existing device refuses a request for another key.</summary>
    public string KeyId { get; }

    /// <summary>
    /// "7K3F-9QXD-M2PA-R8TN": 80 bits derived (SHA-256, then Argon2id) from the request id, the public key and the
    /// key id. The new device shows it; the user types it into the existing device. Whoever substitutes the token
    /// on its way must find another key whose request gives the same code: a 2^80 search, each try an Argon2id
    /// evaluation. Computed on first use (about 0.1 s, 64 MiB).
    /// </summary>
    public string ConfirmationCode => _confirmationCode ??= Custody.ConfirmationCode.Derive(Custody.ConfirmationCode.RequestLabel,
        new WireWriter().WriteBytes(_requestId).WriteBytes(_publicKey).WriteString(KeyId).WrittenSpan, _requestId);

    /// <summary>16 random bytes naming this request; a handover is bound to it.</summary>
    public byte[] RequestId => _requestId.ToArray();

    /// <summary>The new device's ephemeral ECDH key, compressed SEC1 on P-256.</summary>
    public byte[] PublicKey => _publicKey.ToArray();

    /// <summary>When the new device made the request (its clock), to the millisecond.</summary>
    public DateTimeOffset CreatedAt { get; }

    internal ReadOnlySpan<byte> RequestIdSpan => _requestId;

    internal ReadOnlySpan<byte> PublicKeySpan => _publicKey;

    /// <summary><c>mpc-enrol2:</c> followed by the base64url (no padding) of request id, public key, key id and creation time.</summary>
    public string ToToken() => TokenPrefix + Base64Url.EncodeToString(new WireWriter()
        .WriteBytes(_requestId)
        .WriteBytes(_publicKey)
        .WriteString(KeyId)
        .WriteTime(CreatedAt)
        .WrittenSpan);

    /// <summary>Parses a token as <see cref="ToToken"/> writes it (surrounding white space is ignored).</summary>
    /// <exception cref="MpcSignerException">The text is not an enrolment request token of this version, or is damaged.</exception>
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
            throw new MpcSignerException(MpcErrorReason.CorruptInput, "enrolment request token is far too long");
        }
        try
        {
            byte[] bytes = Base64Url.DecodeFromChars(text.AsSpan(TokenPrefix.Length));
            var reader = new WireReader(bytes);
            byte[] requestId = reader.ReadByteArray("request id", exactLength: RequestIdLength);
            byte[] publicKey = CustodyFields.ReadPoint(ref reader, CurveKind.P256, "request public key");
            string keyId = CustodyFields.ReadKeyId(ref reader);
            DateTimeOffset createdAt = CustodyFields.ReadTime(ref reader, "created at");
            reader.EnsureEnd("enrolment request");
            return new EnrolmentRequest(requestId, publicKey, keyId, createdAt);
        }
        catch (Exception e) when (e is FormatException or MpcProtocolException)
        {
            throw new MpcSignerException(MpcErrorReason.CorruptInput, "enrolment request token is damaged (copy it again in full)", e);
        }
    }

    /// <summary>Refuses a request older than <paramref name="lifetime"/>, or dated further ahead than clocks plausibly drift.</summary>
    internal void RequireFresh(TimeProvider timeProvider, TimeSpan lifetime)
    {
        DateTimeOffset now = timeProvider.GetUtcNow();
        if (CreatedAt < now - lifetime)
        {
            throw new MpcSignerException(MpcErrorReason.Expired,
                $"enrolment request expired: requests last {lifetime.TotalMinutes:0} minutes; make a new one on the new device");
        }
        if (CreatedAt > now + Tokens.MaxClockSkew)
        {
            throw new MpcSignerException(MpcErrorReason.Expired,
                "enrolment request is dated in the future: check both devices' clocks and make a new request");
        }
    }

    /// <summary>
    /// Refuses the request unless <paramref name="typedCode"/> is its <see cref="ConfirmationCode"/> (read the way
    /// people type it, <see cref="ConfirmationCode.Matches"/>). The message never shows the expected code: a user
    /// who saw it could copy it instead of reading it from the new device.
    /// </summary>
    internal void RequireConfirmed(string typedCode)
    {
        if (string.IsNullOrWhiteSpace(typedCode) || !Custody.ConfirmationCode.Matches(ConfirmationCode, typedCode))
        {
            throw new MpcSignerException(MpcErrorReason.CodeMismatch,
                "the confirmation code does not match this request: it was mistyped, or the request was substituted on its way; nothing was sealed");
        }
    }

    public bool Equals(EnrolmentRequest? other) =>
        other is not null
        && _requestId.AsSpan().SequenceEqual(other._requestId)
        && _publicKey.AsSpan().SequenceEqual(other._publicKey)
        && string.Equals(KeyId, other.KeyId, StringComparison.Ordinal)
        && CreatedAt.Equals(other.CreatedAt);

    public override int GetHashCode() => HashCode.Combine(Convert.ToHexString(_requestId), KeyId, CreatedAt);

    public override string ToString() => $"EnrolmentRequest({Convert.ToHexStringLower(_requestId)} for key {KeyId}, created {CreatedAt:u})";
}

/// <summary>The text tokens of the handover channel: one-line errors that say what was pasted instead.</summary>
internal static class Tokens
{
    /// <summary>How far ahead of the reader's clock a request may be dated (two devices' clocks differ).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public static MpcSignerException Unexpected(string text, string expected, string familyPrefix)
    {
        if (text.StartsWith(DeviceHandover.Prefix, StringComparison.Ordinal) && familyPrefix != "mpc-handover")
        {
            return new MpcSignerException(MpcErrorReason.WrongKind, $"this is a device handover, not {expected}");
        }
        if (text.StartsWith(EnrolmentRequest.TokenPrefix, StringComparison.Ordinal) && familyPrefix != "mpc-enrol")
        {
            return new MpcSignerException(MpcErrorReason.WrongKind, $"this is an enrolment request token, not {expected}");
        }
        if (text.StartsWith(familyPrefix, StringComparison.Ordinal))
        {
            return new MpcSignerException(MpcErrorReason.UnsupportedVersion, $"{expected} of a version this client does not support");
        }
        return new MpcSignerException(MpcErrorReason.WrongKind, $"not {expected}");
    }
}
