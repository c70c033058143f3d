using System.Buffers.Text;
using System.Security.Cryptography;
using Mpc.Client.KeyStore;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;

namespace Mpc.Client.Custody;

/// <summary>
/// The one-time channel that moves a client share from an existing device to a new one. The new device makes an
/// enrolment request (<see cref="DeviceEnrolmentRequest"/>) and shows its token and its confirmation code; the user
/// carries the token by any channel and types the code into the existing device, which seals nothing unless the
/// code matches the token (<see cref="Seal"/>). A substituted token therefore never receives anything. The existing
/// device makes its own ephemeral P-256 key, agrees a secret with the request's key (ECDH, <see cref="P256"/>), derives an AES-256-GCM
/// key with HKDF-SHA256 bound to both public keys, the request id and the format version, and encrypts the share
/// with the identity (which names the key the request asked for) and the request as associated data.
/// In the other direction the existing device shows the handover's own code (<see cref="SealedHandover.HandoverCode"/>),
/// which the user types into the new device, and the new device opens nothing unless it matches (<see cref="Open"/>).
/// The request token is public, so anyone, the signing server included, can seal some share to it; the handover code
/// is what tells the new device that this handover, and the key's public key in it, came from the user's existing device.
/// </summary>
/// <remarks>
/// The new device then refreshes the handed-over share with the server into its own pair. The existing device's
/// pair is not changed by that: it keeps working, and the share that travelled inside the handover is that pair's
/// x2, live until the existing device refreshes (<c>mpc device handover</c> does so once the server reports the new
/// device, or the user runs <c>mpc refresh</c> there). See docs/key-custody.md.
/// </remarks>
public static class DeviceHandover
{
    internal const string Prefix = "mpc-handover3:";
    internal const string Format = "mpc-signer/device-handover";

    /// <summary>3: the handover comes with a code the new device requires (a version-2 sender showed none).</summary>
    internal const uint Version = 3;
    private const int MaxTextLength = 4 * 1024 * 1024;

    /// <summary>
    /// Existing device: checks that <paramref name="confirmationCode"/> (typed by the user from the new device's
    /// screen) is the code of the request in <paramref name="requestToken"/> and that the request names
    /// <paramref name="identity"/>'s key, and only then encrypts <paramref name="shareSecret"/> to the request.
    /// Refuses requests older than <see cref="DeviceEnrolmentRequest.Lifetime"/> by <paramref name="timeProvider"/>.
    /// Show the result's <see cref="SealedHandover.HandoverCode"/> on this device's screen only: the user types it into
    /// the new device, which opens nothing without it.
    /// </summary>
    /// <exception cref="MpcSignerException">
    /// <see cref="MpcErrorReason.CodeMismatch"/> (the expected code is never revealed), <see cref="MpcErrorReason.WrongKey"/>,
    /// an expired or malformed request; in every case nothing was sealed.
    /// </exception>
    public static SealedHandover Seal(string requestToken, string confirmationCode, ReadOnlySpan<byte> shareSecret, HandoverIdentity identity,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(confirmationCode);
        ArgumentNullException.ThrowIfNull(identity);
        if (shareSecret.IsEmpty)
        {
            throw new ArgumentException("The share secret is empty.", nameof(shareSecret));
        }
        CustodyFields.RequireUserId(identity.UserId, nameof(identity));
        CustodyFields.RequireKeyId(identity.KeyId, nameof(identity));
        CustodyFields.RequireDeviceId(identity.SourceDeviceId, nameof(identity));
        CustodyFields.RequirePublicKey(identity.Curve, identity.PublicKey, nameof(identity));
        EnrolmentRequest request = Confirm(requestToken, confirmationCode, timeProvider);
        if (!string.Equals(request.KeyId, identity.KeyId, StringComparison.Ordinal))
        {
            throw new MpcSignerException(MpcErrorReason.WrongKey,
                $"the request asks for key {request.KeyId}, not key {identity.KeyId}; nothing was sealed");
        }

        (byte[] senderPrivate, byte[] senderPublic) = P256.NewKeyPair();
        byte[] nonce = RandomNumberGenerator.GetBytes(PassphraseAead.NonceLength);
        WireWriter header = WriteHeader(request, senderPublic, identity, nonce);
        string handoverCode = CodeOf(header.WrittenSpan, request.RequestIdSpan);
        byte[] ciphertext = new byte[shareSecret.Length + PassphraseAead.TagLength];
        byte[] shared = P256.Agree(senderPrivate, request.PublicKeySpan);
        CryptographicOperations.ZeroMemory(senderPrivate);
        byte[] key = DeriveKey(shared, request.RequestIdSpan, request.PublicKeySpan, senderPublic);
        try
        {
            PassphraseAead.Encrypt(key, nonce, shareSecret, ciphertext, AssociatedData(header.WrittenSpan));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
        return new SealedHandover(Prefix + Base64Url.EncodeToString(header.WriteBytes(ciphertext).WrittenSpan), request, handoverCode);
    }

    /// <summary>
    /// Existing device, before it unlocks anything: parses <paramref name="requestToken"/>, refuses an expired one,
    /// and refuses it unless <paramref name="confirmationCode"/> is its code (<see cref="MpcErrorReason.CodeMismatch"/>;
    /// the message never shows the expected code). <see cref="Seal"/> runs the same check.
    /// </summary>
    public static EnrolmentRequest Confirm(string requestToken, string confirmationCode, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(confirmationCode);
        EnrolmentRequest request = EnrolmentRequest.Parse(requestToken);
        request.RequireFresh(timeProvider ?? TimeProvider.System, DeviceEnrolmentRequest.Lifetime);
        request.RequireConfirmed(confirmationCode);
        return request;
    }

    /// <summary>
    /// New device: opens <paramref name="handover"/> with the pending request it was made for, once
    /// <paramref name="handoverCode"/> (typed by the user from the existing device's screen) is the handover's
    /// <see cref="SealedHandover.HandoverCode"/>. Refuses an expired request, a handover whose code differs, a handover
    /// for another request or another key, and any modification. A code that does not match
    /// (<see cref="MpcErrorReason.CodeMismatch"/>; the expected code is never shown) and a damaged copy
    /// (<see cref="MpcErrorReason.CorruptInput"/>) leave <paramref name="pending"/> usable, so the genuine handover can
    /// still be opened with its code. A successful open and every other refusal use the pending request up:
    /// <paramref name="pending"/> is disposed (its private key zeroed), and the caller deletes the pending file
    /// (<see cref="DeviceEnrolmentRequest.DestroyPendingFile"/>). An expired request is refused
    /// (<see cref="MpcErrorReason.Expired"/>) before the handover is read; the caller destroys the pending file then too,
    /// since expiry is this clock's check, not the key's: the key would still open the handover. A handover that matches
    /// its code but does not belong to this request means someone is interfering: start again with a new request.
    /// The caller disposes the result; <see cref="OpenedHandover.ImportShare"/> checks the share against its description.
    /// </summary>
    /// <exception cref="MpcSignerException">
    /// <see cref="MpcErrorReason.CodeMismatch"/>, <see cref="MpcErrorReason.CorruptInput"/>, <see cref="MpcErrorReason.Expired"/>,
    /// <see cref="MpcErrorReason.HandoverRejected"/>, or another kind of text (<see cref="MpcErrorReason.WrongKind"/>,
    /// <see cref="MpcErrorReason.UnsupportedVersion"/>); in every case nothing was opened.
    /// </exception>
    public static OpenedHandover Open(string handover, string handoverCode, DeviceEnrolmentRequest pending, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(handover);
        ArgumentNullException.ThrowIfNull(handoverCode);
        ArgumentNullException.ThrowIfNull(pending);
        EnrolmentRequest request = pending.Request;
        request.RequireFresh(timeProvider ?? TimeProvider.System, DeviceEnrolmentRequest.Lifetime);
        Parsed parsed = Parse(handover);
        // Before anything uses the request up: a forged or mistyped handover must not cost the user the genuine one.
        if (string.IsNullOrWhiteSpace(handoverCode)
            || !ConfirmationCode.Matches(CodeOf(parsed.Header, parsed.RequestId), handoverCode))
        {
            throw new MpcSignerException(MpcErrorReason.CodeMismatch,
                "the handover code does not match this handover: it was mistyped, or the handover did not come from your existing device; nothing was opened, and this enrolment request still waits for the genuine handover and its code");
        }
        if (!parsed.RequestId.AsSpan().SequenceEqual(request.RequestIdSpan)
            || !parsed.RequestPublicKey.AsSpan().SequenceEqual(request.PublicKeySpan))
        {
            throw Rejected(pending, "this handover was made for another enrolment request");
        }
        if (!string.Equals(parsed.Identity.KeyId, request.KeyId, StringComparison.Ordinal))
        {
            throw Rejected(pending, $"this handover carries key {parsed.Identity.KeyId}, not the requested key {request.KeyId}");
        }

        byte[] key = DeriveKey(pending.AgreeWith(parsed.SenderPublicKey), request.RequestIdSpan, request.PublicKeySpan, parsed.SenderPublicKey);
        int length = parsed.Ciphertext.Length - PassphraseAead.TagLength;
        byte[] share = new byte[length];
        try
        {
            PassphraseAead.Decrypt(key, parsed.Nonce, parsed.Ciphertext, share, AssociatedData(parsed.Header));
        }
        catch (AuthenticationTagMismatchException e)
        {
            CryptographicOperations.ZeroMemory(share);
            throw Rejected(pending, "handover does not open: it was modified, or made for another enrolment request", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
        var opened = new OpenedHandover(share, parsed.Identity);
        pending.Dispose();
        return opened;
    }

    private static MpcSignerException Rejected(DeviceEnrolmentRequest pending, string reason, Exception? inner = null)
    {
        pending.Dispose();
        string message = reason + "; this enrolment request is used up: make a new one on the new device";
        return inner is null
            ? new MpcSignerException(MpcErrorReason.HandoverRejected, message)
            : new MpcSignerException(MpcErrorReason.HandoverRejected, message, inner);
    }

    private static WireWriter WriteHeader(EnrolmentRequest request, byte[] senderPublic, HandoverIdentity identity, byte[] nonce) =>
        new WireWriter()
            .WriteBytes(request.RequestIdSpan)
            .WriteBytes(request.PublicKeySpan)
            .WriteBytes(senderPublic)
            .WriteString(identity.UserId)
            .WriteString(identity.KeyId)
            .WriteString(identity.SourceDeviceId)
            .WriteCurve(identity.Curve)
            .WriteBytes(identity.PublicKeySpan)
            .WriteBytes(nonce);

    /// <summary>
    /// The handover code: over the associated data, so over everything the new device is about to trust in clear (the
    /// request, the sender's ephemeral key, user, key id, source device, curve, the key's public key) and the format
    /// version. A forger who holds its sender key's private half made a different sender key than the existing device
    /// did, so its header must hit the genuine code: an 80-bit second preimage, each try an Argon2id. One that keeps the
    /// genuine sender key cannot make a ciphertext that opens. Salted with the request id, so no work carries over
    /// between requests.
    /// </summary>
    private static string CodeOf(ReadOnlySpan<byte> header, ReadOnlySpan<byte> requestId) =>
        ConfirmationCode.Derive(ConfirmationCode.HandoverLabel, AssociatedData(header), requestId.ToArray());

    /// <summary>Format name and version first, so bytes of any other format can never authenticate as a handover.</summary>
    private static byte[] AssociatedData(ReadOnlySpan<byte> header) =>
        new WireWriter().WriteString(Format).WriteUInt32(Version).WriteBytes(header).ToArray();

    /// <summary>HKDF-SHA256 of the ECDH secret <paramref name="shared"/> with the request id as salt and both public keys in the info; <paramref name="shared"/> is zeroed.</summary>
    private static byte[] DeriveKey(byte[] shared, ReadOnlySpan<byte> requestId, ReadOnlySpan<byte> requestPublic, ReadOnlySpan<byte> senderPublic)
    {
        try
        {
            byte[] info = new WireWriter().WriteString(Format).WriteUInt32(Version)
                .WriteBytes(requestId).WriteBytes(requestPublic).WriteBytes(senderPublic).ToArray();
            return HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, PassphraseAead.KeyLength, requestId.ToArray(), info);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    private static Parsed Parse(string handover)
    {
        string text = handover.Trim();
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw Tokens.Unexpected(text, "a device handover", "mpc-handover");
        }
        if (text.Length > MaxTextLength)
        {
            throw new MpcSignerException(MpcErrorReason.CorruptInput, "device handover is far too long");
        }
        try
        {
            byte[] bytes = Base64Url.DecodeFromChars(text.AsSpan(Prefix.Length));
            var reader = new WireReader(bytes);
            byte[] requestId = reader.ReadByteArray("request id", exactLength: EnrolmentRequest.RequestIdLength);
            byte[] requestPublic = CustodyFields.ReadPoint(ref reader, CurveKind.P256, "request public key");
            byte[] senderPublic = CustodyFields.ReadPoint(ref reader, CurveKind.P256, "sender public key");
            string userId = CustodyFields.ReadUserId(ref reader);
            string keyId = CustodyFields.ReadKeyId(ref reader);
            string deviceId = CustodyFields.ReadDeviceId(ref reader, "source device id");
            CurveKind curve = CustodyFields.ReadCurve(ref reader);
            byte[] publicKey = CustodyFields.ReadPoint(ref reader, curve, "public key");
            byte[] nonce = reader.ReadByteArray("nonce", exactLength: PassphraseAead.NonceLength);
            byte[] ciphertext = reader.ReadByteArray("ciphertext");
            reader.EnsureEnd("device handover");
            if (ciphertext.Length <= PassphraseAead.TagLength)
            {
                throw new FormatException("ciphertext is too short");
            }
            byte[] header = bytes.AsSpan(0, bytes.Length - 4 - ciphertext.Length).ToArray();
            var identity = new HandoverIdentity(userId, keyId, deviceId, curve, publicKey);
            return new Parsed(requestId, requestPublic, senderPublic, identity, nonce, header, ciphertext);
        }
        catch (Exception e) when (e is FormatException or MpcProtocolException)
        {
            throw new MpcSignerException(MpcErrorReason.CorruptInput, "device handover is damaged (copy it again in full)", e);
        }
    }

    private sealed record Parsed(byte[] RequestId, byte[] RequestPublicKey, byte[] SenderPublicKey, HandoverIdentity Identity,
        byte[] Nonce, byte[] Header, byte[] Ciphertext);
}
