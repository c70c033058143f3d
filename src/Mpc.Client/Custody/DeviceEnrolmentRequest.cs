using System.Security.Cryptography;
using Mpc.Client.KeyStore;
using Mpc.Crypto;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Org.BouncyCastle.Math;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Client.Custody;

/// <summary>
/// The new device's side of an enrolment: an ephemeral P-256 ECDH key pair and its public <see cref="Request"/>.
/// The private key lives in a buffer this object zeroes on <see cref="Dispose"/>. Between two CLI invocations it
/// is kept with <see cref="ExportPending(ReadOnlySpan{char})"/> (passphrase-protected like a backup) and must be destroyed once the
/// handover is opened (<see cref="DestroyPendingFile"/>): the channel is one-time.
/// </summary>
public sealed class DeviceEnrolmentRequest : IDisposable
{
    internal const string PendingFormat = "mpc-signer/enrolment-pending";
    internal const uint PendingVersion = 2;
    internal const string PendingKind = "a pending device enrolment";
    internal const string SecretFormat = "mpc-signer/enrolment-pending-secret";
    internal const uint SecretVersion = 1;
    internal const int PrivateKeyLength = 32;

    /// <summary>How long a request may be used: long enough to carry a token between two devices, short enough to bound exposure.</summary>
    public static TimeSpan Lifetime { get; } = TimeSpan.FromMinutes(15);

    private readonly byte[] _privateKey;
    private bool _disposed;

    private DeviceEnrolmentRequest(byte[] privateKey, EnrolmentRequest request)
    {
        _privateKey = privateKey;
        Request = request;
    }

    /// <summary>The public part to carry to the existing device (<see cref="EnrolmentRequest.ToToken"/>).</summary>
    public EnrolmentRequest Request { get; }

    /// <summary>
    /// When <see cref="DeviceHandover.Seal"/> and <see cref="DeviceHandover.Open"/> start refusing the request by their
    /// clocks (<see cref="Lifetime"/> after it was made). Its key itself never expires: destroy it (<see cref="DestroyPendingFile"/>).
    /// </summary>
    public DateTimeOffset ExpiresAt => Request.CreatedAt + Lifetime;

    /// <summary>
    /// Refuses the request (<see cref="MpcErrorReason.Expired"/>) as <see cref="DeviceHandover.Open"/> would by the same
    /// clock, so a caller can tell the user before asking for the handover code an expired request could not use.
    /// </summary>
    /// <exception cref="MpcSignerException"><see cref="MpcErrorReason.Expired"/>: older than <see cref="Lifetime"/>, or dated ahead.</exception>
    public void ThrowIfExpired(TimeProvider? timeProvider = null) =>
        Request.RequireFresh(timeProvider ?? TimeProvider.System, Lifetime);

    /// <summary>
    /// A fresh key pair and request id from the platform CSPRNG, for key <paramref name="keyId"/>, dated by
    /// <paramref name="timeProvider"/> (default: system clock). Show the user both the token and
    /// <see cref="EnrolmentRequest.ConfirmationCode"/>: the code must be typed into the existing device. The handover that
    /// comes back opens only with the code the existing device shows in turn (<see cref="DeviceHandover.Open"/>).
    /// </summary>
    public static DeviceEnrolmentRequest Create(string keyId, TimeProvider? timeProvider = null)
    {
        CustodyFields.RequireKeyId(keyId, nameof(keyId));
        DateTimeOffset now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        (byte[] privateKey, byte[] publicKey) = P256.NewKeyPair();
        return new DeviceEnrolmentRequest(privateKey, new EnrolmentRequest(RandomNumberGenerator.GetBytes(EnrolmentRequest.RequestIdLength), publicKey, keyId, now));
    }

    /// <summary>
    /// The pending private part, encrypted under <paramref name="passphrase"/> (Argon2id + AES-256-GCM, the request in
    /// clear as associated data), for the new device to keep until the handover arrives.
    /// </summary>
    public byte[] ExportPending(ReadOnlySpan<char> passphrase) => ExportPending(passphrase, KeyFileOptions.Default);

    /// <summary>Restores a pending enrolment written by <see cref="ExportPending(ReadOnlySpan{char})"/>; the caller disposes it.</summary>
    public static DeviceEnrolmentRequest ImportPending(ReadOnlySpan<byte> file, ReadOnlySpan<char> passphrase) =>
        ImportPending(file, passphrase, KeyFileOptions.Default);

    /// <summary>
    /// Overwrites the pending file with zeros, flushes and deletes it. Callers destroy it once it has served or can
    /// no longer serve: enrolled, handover refused, or request expired. On flash storage and copy-on-write file
    /// systems the old blocks may survive the overwrite, and the request's 15-minute lifetime does not make them
    /// useless: it is a check of the devices' clocks, not of the file, so whoever recovers the file and its
    /// passphrase can open a handover sealed to the request at any time. What protects such leftovers is the
    /// passphrase, and the existing device's refresh after the enrolment, which retires the share a handover carried.
    /// </summary>
    public static void DestroyPendingFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            byte[] zeros = new byte[Math.Min(stream.Length, PassphraseEnvelope.MaxFileBytes)];
            stream.Write(zeros);
            stream.Flush(flushToDisk: true);
        }
        SecretFile.Delete(path);
    }

    /// <summary>
    /// The pending enrolment unprotected (the pending file's header fields and the private key, under format
    /// <c>mpc-signer/enrolment-pending-secret</c>), for a caller that seals it itself, as the browser's vault does
    /// with <see cref="Mpc.Protocol.Keys.ClientKeyShare.ExportSecret"/>. The caller zeroes the result.
    /// </summary>
    public byte[] ExportSecret()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return WireWriter.ToSecretArray(writer =>
        {
            WriteHeader(writer.WriteString(SecretFormat).WriteUInt32(SecretVersion), Request);
            writer.WriteBytes(_privateKey);
        });
    }

    /// <summary>Restores a pending enrolment written by <see cref="ExportSecret"/>; the caller disposes it and zeroes <paramref name="secret"/>.</summary>
    /// <exception cref="MpcSignerException"><see cref="MpcErrorReason.CorruptInput"/>: not such bytes, or the key pair does not match.</exception>
    public static DeviceEnrolmentRequest ImportSecret(ReadOnlySpan<byte> secret)
    {
        const string Kind = "pending enrolment";
        EnrolmentRequest header;
        byte[]? privateKey = null;
        try
        {
            var reader = new WireReader(secret);
            if (reader.ReadString("format", 64) != SecretFormat || reader.ReadUInt32("version") != SecretVersion)
            {
                throw new MpcSignerException(MpcErrorReason.WrongKind, $"not a {Kind} of this version");
            }
            header = ReadHeader(ref reader);
            privateKey = reader.ReadByteArray("private key", exactLength: PrivateKeyLength);
            reader.EnsureEnd(Kind);
        }
        catch (Exception e) when (e is MpcProtocolException or FormatException)
        {
            // MpcProtocolException: the framing; FormatException: a field that fails its rule (CustodyFields' readers).
            CryptographicOperations.ZeroMemory(privateKey);
            throw new MpcSignerException(MpcErrorReason.CorruptInput, $"{Kind} is truncated or corrupt", e);
        }
        return FromParts(privateKey, header, Kind);
    }

    internal byte[] ExportPending(ReadOnlySpan<char> passphrase, KeyFileOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return PassphraseEnvelope.Seal(PendingFormat, PendingVersion, writer => WriteHeader(writer, Request), _privateKey, passphrase, options.Kdf);
    }

    internal static DeviceEnrolmentRequest ImportPending(ReadOnlySpan<byte> file, ReadOnlySpan<char> passphrase, KeyFileOptions options)
    {
        Envelope<EnrolmentRequest> envelope = PassphraseEnvelope.Parse(file, PendingFormat, PendingVersion, PendingKind, ReadHeader, options.Minimum);
        byte[] privateKey = PassphraseEnvelope.Open(envelope, passphrase, "pending enrolment file");
        return FromParts(privateKey, envelope.Header, "pending enrolment file");
    }

    /// <summary>The request from its private key and header, once they form a key pair; zeroes the key otherwise.</summary>
    private static DeviceEnrolmentRequest FromParts(byte[] privateKey, EnrolmentRequest header, string kind)
    {
        try
        {
            if (privateKey.Length != PrivateKeyLength || !P256.IsKeyPair(privateKey, header.PublicKeySpan))
            {
                throw new MpcSignerException(MpcErrorReason.CorruptInput, $"{kind} is inconsistent: its key pair does not match");
            }
            return new DeviceEnrolmentRequest(privateKey, header);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(privateKey);
            throw;
        }
    }

    /// <summary>The ECDH shared secret (x coordinate) with <paramref name="peerPublicKey"/>; the caller zeroes it.</summary>
    internal byte[] AgreeWith(ReadOnlySpan<byte> peerPublicKey)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return P256.Agree(_privateKey, peerPublicKey);
    }

    /// <summary>Zeroes the private key (BouncyCastle's immutable big integers made from it during an agreement cannot be wiped).</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_privateKey);
        _disposed = true;
    }

    public override string ToString() => $"DeviceEnrolmentRequest({Request})";

    private static void WriteHeader(WireWriter writer, EnrolmentRequest request) =>
        writer.WriteBytes(request.RequestIdSpan).WriteBytes(request.PublicKeySpan).WriteString(request.KeyId).WriteTime(request.CreatedAt);

    private static EnrolmentRequest ReadHeader(ref WireReader reader)
    {
        byte[] requestId = reader.ReadByteArray("request id", exactLength: EnrolmentRequest.RequestIdLength);
        byte[] publicKey = CustodyFields.ReadPoint(ref reader, CurveKind.P256, "request public key");
        string keyId = CustodyFields.ReadKeyId(ref reader);
        DateTimeOffset createdAt = CustodyFields.ReadTime(ref reader, "created at");
        return new EnrolmentRequest(requestId, publicKey, keyId, createdAt);
    }
}

/// <summary>
/// The P-256 ECDH of the enrolment channel, through Mpc.Crypto's curve code (BouncyCastle) rather than the platform's
/// ECDiffieHellman, so it also runs in browser WebAssembly (src/Mpc.Browser), where .NET has no ECDH. Keys are a
/// 32-byte big-endian scalar and a compressed SEC1 point; the agreement is the x coordinate of d·P, as the platform's
/// raw secret agreement (DeriveRawSecretAgreement) gives it.
/// </summary>
internal static class P256
{
    private static EcCurve Curve => EcCurve.Get(CurveKind.P256);

    /// <summary>A fresh key pair: d uniformly in [1, n-1] from the platform CSPRNG, and d·G compressed.</summary>
    public static (byte[] PrivateKey, byte[] PublicKey) NewKeyPair()
    {
        BigInteger d = Curve.RandomScalar();
        byte[] privateKey = d.ToByteArrayUnsigned();
        if (privateKey.Length < DeviceEnrolmentRequest.PrivateKeyLength)
        {
            byte[] padded = new byte[DeviceEnrolmentRequest.PrivateKeyLength];
            privateKey.CopyTo(padded.AsSpan(padded.Length - privateKey.Length));
            CryptographicOperations.ZeroMemory(privateKey);
            privateKey = padded;
        }
        return (privateKey, Curve.EncodePoint(Curve.MultiplyBase(d)));
    }

    /// <summary>x(d·P) for a peer point that <see cref="EcCurve.DecodePoint"/> accepts (on the curve, not the identity).</summary>
    public static byte[] Agree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> peerPublicKey)
    {
        ECPoint peer = Curve.DecodePoint(peerPublicKey, "P-256 public key");
        ECPoint shared = Curve.MultiplySecret(peer, Scalar(privateKey));
        return shared.AffineXCoord.GetEncoded();
    }

    /// <summary>Whether <paramref name="publicKey"/> is d·G for <paramref name="privateKey"/> d in [1, n-1].</summary>
    public static bool IsKeyPair(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey)
    {
        BigInteger d = new(1, privateKey);
        if (d.SignValue <= 0 || d.CompareTo(Curve.Order) >= 0)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(Curve.EncodePoint(Curve.MultiplyBase(d)), publicKey);
    }

    private static BigInteger Scalar(ReadOnlySpan<byte> privateKey)
    {
        BigInteger d = new(1, privateKey);
        return d.SignValue > 0 && d.CompareTo(Curve.Order) < 0
            ? d
            : throw new MpcSignerException(MpcErrorReason.CorruptInput, "enrolment private key is out of range");
    }
}
