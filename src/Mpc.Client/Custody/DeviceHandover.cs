using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using Mpc.Client.KeyStore;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;

namespace Mpc.Client.Custody;

/// <summary>
/// The one-time channel that moves a client share from an existing device to a new one. The existing device makes
/// its own ephemeral P-256 key, agrees a secret with the request's key (ECDH), derives an AES-256-GCM key with
/// HKDF-SHA256 bound to both public keys, the request id and the format version, and encrypts the share with the
/// identity and request id as associated data. Both devices display the same authentication string only if
/// each saw the other's genuine public key, which is how the user catches a substituted request.
/// The new device then refreshes its share with the server alone, so the handed-over copy soon stops mattering.
/// </summary>
public static class DeviceHandover
{
    internal const string Prefix = "mpc-handover1:";
    internal const string Format = "mpc-signer/device-handover";
    internal const uint Version = 1;
    private const string SasLabel = "mpc-signer/device-handover/sas";
    private const int MaxTextLength = 4 * 1024 * 1024;

    /// <summary>
    /// Argon2id makes every guess at a matching code cost 64 MiB and tens of milliseconds, on top of the 80-bit
    /// code length, for an attacker who sits in the middle and picks its key last.
    /// Fixed by the format version: both devices must compute the same code.
    /// </summary>
    private static readonly Argon2idParameters SasKdf = Argon2idParameters.Unchecked(1, 64 * 1024, 1, EnrolmentRequest.RequestIdLength);

    /// <summary>
    /// Existing device: encrypts <paramref name="shareSecret"/> to the request in <paramref name="requestToken"/>.
    /// Refuses requests older than <see cref="DeviceEnrolmentRequest.Lifetime"/> by <paramref name="timeProvider"/>.
    /// Show <see cref="SealedHandover.AuthenticationString"/> to the user and ask them to compare it with the new device.
    /// </summary>
    public static SealedHandover Seal(string requestToken, ReadOnlySpan<byte> shareSecret, HandoverIdentity identity, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (shareSecret.IsEmpty)
        {
            throw new ArgumentException("The share secret is empty.", nameof(shareSecret));
        }
        CustodyFields.RequireUserId(identity.UserId, nameof(identity));
        CustodyFields.RequireKeyId(identity.KeyId, nameof(identity));
        CustodyFields.RequireDeviceId(identity.SourceDeviceId, nameof(identity));
        CustodyFields.RequirePublicKey(identity.Curve, identity.PublicKey, nameof(identity));
        EnrolmentRequest request = EnrolmentRequest.Parse(requestToken);
        request.RequireFresh(timeProvider ?? TimeProvider.System, DeviceEnrolmentRequest.Lifetime);

        using ECDiffieHellman senderKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        byte[] senderPublic = P256.Compress(senderKey.ExportParameters(includePrivateParameters: false).Q);
        byte[] nonce = RandomNumberGenerator.GetBytes(PassphraseAead.NonceLength);
        WireWriter header = WriteHeader(request, senderPublic, identity, nonce);
        byte[] ciphertext = new byte[shareSecret.Length + PassphraseAead.TagLength];
        byte[] key;
        using (ECDiffieHellman requestKey = P256.ImportPublic(request.PublicKeySpan))
        {
            key = DeriveKey(senderKey, requestKey, request.RequestIdSpan, request.PublicKeySpan, senderPublic);
        }
        try
        {
            using var aes = new AesGcm(key, PassphraseAead.TagLength);
            aes.Encrypt(nonce, shareSecret, ciphertext.AsSpan(0, shareSecret.Length), ciphertext.AsSpan(shareSecret.Length),
                AssociatedData(header.WrittenSpan));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
        string text = Prefix + Base64Url.EncodeToString(header.WriteBytes(ciphertext).WrittenSpan);
        return new SealedHandover(text, AuthenticationString(request.RequestIdSpan, request.PublicKeySpan, senderPublic));
    }

    /// <summary>
    /// New device: opens <paramref name="handover"/> with the pending request it was made for. Refuses an expired
    /// request, a handover for another request and any modification. On success the channel is used up:
    /// <paramref name="pending"/> is disposed (its private key zeroed); the caller disposes the result and deletes
    /// the pending file (<see cref="DeviceEnrolmentRequest.DestroyPendingFile"/>). A refused handover leaves
    /// <paramref name="pending"/> usable, so a badly copied handover can be pasted again.
    /// </summary>
    public static OpenedHandover Open(string handover, DeviceEnrolmentRequest pending, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(handover);
        ArgumentNullException.ThrowIfNull(pending);
        EnrolmentRequest request = pending.Request;
        request.RequireFresh(timeProvider ?? TimeProvider.System, DeviceEnrolmentRequest.Lifetime);
        Parsed parsed = Parse(handover);
        if (!parsed.RequestId.AsSpan().SequenceEqual(request.RequestIdSpan)
            || !parsed.RequestPublicKey.AsSpan().SequenceEqual(request.PublicKeySpan))
        {
            throw new CustodyException(CustodyErrorReason.HandoverRejected,
                "this handover was made for another enrolment request (make the handover from this device's current request)");
        }

        byte[] key;
        using (ECDiffieHellman own = pending.CreateKeyAgreement())
        using (ECDiffieHellman sender = P256.ImportPublic(parsed.SenderPublicKey))
        {
            key = DeriveKey(own, sender, request.RequestIdSpan, request.PublicKeySpan, parsed.SenderPublicKey);
        }
        int length = parsed.Ciphertext.Length - PassphraseAead.TagLength;
        byte[] share = new byte[length];
        try
        {
            using var aes = new AesGcm(key, PassphraseAead.TagLength);
            aes.Decrypt(parsed.Nonce, parsed.Ciphertext.AsSpan(0, length), parsed.Ciphertext.AsSpan(length), share,
                AssociatedData(parsed.Header));
        }
        catch (AuthenticationTagMismatchException e)
        {
            CryptographicOperations.ZeroMemory(share);
            throw new CustodyException(CustodyErrorReason.HandoverRejected,
                "handover does not open: it was modified, or made for another enrolment request", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
        var opened = new OpenedHandover(share, parsed.Identity, AuthenticationString(request.RequestIdSpan, request.PublicKeySpan, parsed.SenderPublicKey));
        pending.Dispose();
        return opened;
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

    /// <summary>Format name and version first, so bytes of any other format can never authenticate as a handover.</summary>
    private static byte[] AssociatedData(ReadOnlySpan<byte> header) =>
        new WireWriter().WriteString(Format).WriteUInt32(Version).WriteBytes(header).ToArray();

    /// <summary>ECDH, then HKDF-SHA256 with the request id as salt and both public keys in the info; the shared secret is zeroed.</summary>
    private static byte[] DeriveKey(ECDiffieHellman own, ECDiffieHellman other, ReadOnlySpan<byte> requestId,
        ReadOnlySpan<byte> requestPublic, ReadOnlySpan<byte> senderPublic)
    {
        byte[] shared = own.DeriveRawSecretAgreement(other.PublicKey);
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

    /// <summary>
    /// 80 bits from both public keys and the request id, as 16 Crockford base-32 characters in groups of four
    /// ("7K3F-9QXD-M2PA-R8TN"). Public values only: a man in the middle who substitutes both keys would have to
    /// make the two devices' codes collide, and choosing its key last leaves it a 2^80 search (each try also an
    /// Argon2id evaluation, <see cref="SasKdf"/>), where eight digits would have left 10^8.
    /// </summary>
    internal static string AuthenticationString(ReadOnlySpan<byte> requestId, ReadOnlySpan<byte> requestPublic, ReadOnlySpan<byte> senderPublic)
    {
        byte[] transcript = SHA256.HashData(new WireWriter().WriteString(SasLabel).WriteUInt32(Version)
            .WriteBytes(requestId).WriteBytes(requestPublic).WriteBytes(senderPublic).WrittenSpan);
        byte[] output = new byte[SasBytes];
        SasKdf.Derive(transcript, requestId.ToArray(), output);
        var code = new System.Text.StringBuilder(SasCharacters + 3);
        int buffer = 0, bits = 0;
        foreach (byte b in output)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                if (code.Length is 4 or 9 or 14)
                {
                    code.Append('-');
                }
                code.Append(Crockford[(buffer >> bits) & 31]);
            }
        }
        return code.ToString();
    }

    /// <summary>
    /// True when <paramref name="typed"/> is the code <paramref name="shown"/>, read the way people type it:
    /// case, spaces and dashes do not matter, and O, I and L stand for 0, 1 and 1. Compared in constant time.
    /// </summary>
    public static bool CodesMatch(string shown, string typed)
    {
        static byte[] Normalise(string code) => System.Text.Encoding.ASCII.GetBytes(new string([.. code.ToUpperInvariant()
            .Where(c => c is not ('-' or ' '))
            .Select(c => c switch { 'O' => '0', 'I' or 'L' => '1', _ => c })]));
        return CryptographicOperations.FixedTimeEquals(Normalise(shown), Normalise(typed));
    }

    private const int SasBytes = 10;
    private const int SasCharacters = SasBytes * 8 / 5;
    private const string Crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    private static Parsed Parse(string handover)
    {
        string text = handover.Trim();
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw Tokens.Unexpected(text, "a device handover", "mpc-handover");
        }
        if (text.Length > MaxTextLength)
        {
            throw new CustodyException(CustodyErrorReason.Corrupt, "device handover is far too long");
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
            throw new CustodyException(CustodyErrorReason.Corrupt, "device handover is damaged (copy it again in full)", e);
        }
    }

    private sealed record Parsed(byte[] RequestId, byte[] RequestPublicKey, byte[] SenderPublicKey, HandoverIdentity Identity,
        byte[] Nonce, byte[] Header, byte[] Ciphertext);
}
