using System.Security.Cryptography;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;

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
    /// A fresh key pair and request id from the platform CSPRNG, for key <paramref name="keyId"/>, dated by
    /// <paramref name="timeProvider"/> (default: system clock). Show the user both the token and
    /// <see cref="EnrolmentRequest.ConfirmationCode"/>: the code must be typed into the existing device.
    /// </summary>
    public static DeviceEnrolmentRequest Create(string keyId, TimeProvider? timeProvider = null)
    {
        CustodyFields.RequireKeyId(keyId, nameof(keyId));
        DateTimeOffset now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        using ECDiffieHellman key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        ECParameters parameters = key.ExportParameters(includePrivateParameters: true);
        try
        {
            byte[] privateKey = new byte[PrivateKeyLength];
            parameters.D.AsSpan().CopyTo(privateKey.AsSpan(PrivateKeyLength - parameters.D!.Length));
            byte[] publicKey = P256.Compress(parameters.Q);
            return new DeviceEnrolmentRequest(privateKey, new EnrolmentRequest(RandomNumberGenerator.GetBytes(EnrolmentRequest.RequestIdLength), publicKey, keyId, now));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(parameters.D);
        }
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
    /// Overwrites the pending file with zeros, flushes and deletes it. On flash storage and copy-on-write file
    /// systems the old blocks may survive the overwrite; what keeps them useless is the passphrase and the
    /// request's 15-minute lifetime.
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

    internal byte[] ExportPending(ReadOnlySpan<char> passphrase, KeyFileOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return PassphraseEnvelope.Seal(PendingFormat, PendingVersion, writer => WriteHeader(writer, Request), _privateKey, passphrase, options.Kdf);
    }

    internal static DeviceEnrolmentRequest ImportPending(ReadOnlySpan<byte> file, ReadOnlySpan<char> passphrase, KeyFileOptions options)
    {
        Envelope<EnrolmentRequest> envelope = PassphraseEnvelope.Parse(file, PendingFormat, PendingVersion, PendingKind, ReadHeader, options.Minimum);
        byte[] privateKey = PassphraseEnvelope.Open(envelope, passphrase, "pending enrolment file");
        try
        {
            if (privateKey.Length != PrivateKeyLength || !P256.IsKeyPair(privateKey, envelope.Header.PublicKeySpan))
            {
                throw new MpcSignerException(MpcErrorReason.CorruptInput, "pending enrolment file is inconsistent: its key pair does not match");
            }
            return new DeviceEnrolmentRequest(privateKey, envelope.Header);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(privateKey);
            throw;
        }
    }

    /// <summary>An ECDH object for this key; the caller disposes it. The private key is copied in and that copy zeroed.</summary>
    internal ECDiffieHellman CreateKeyAgreement()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return P256.Import(_privateKey, Request.PublicKeySpan);
    }

    /// <summary>Zeroes the private key. The OpenSSL copies made for each key agreement are freed (and cleared by OpenSSL) as those objects are disposed.</summary>
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

/// <summary>P-256 keys moved between the platform's ECDH (which does the agreement) and compressed SEC1 (what we carry).</summary>
internal static class P256
{
    private const int FieldLength = 32;

    public static byte[] Compress(ECPoint q)
    {
        byte[] compressed = new byte[1 + FieldLength];
        compressed[0] = (byte)(0x02 | (q.Y![^1] & 1));
        q.X.AsSpan().CopyTo(compressed.AsSpan(1 + FieldLength - q.X!.Length));
        return compressed;
    }

    /// <summary>Decompresses a point already validated by <see cref="EcCurve.DecodePoint"/> (on the curve, not the identity).</summary>
    public static ECPoint Decompress(ReadOnlySpan<byte> compressed)
    {
        Org.BouncyCastle.Math.EC.ECPoint point = EcCurve.Get(CurveKind.P256).DecodePoint(compressed, "P-256 public key");
        return new ECPoint
        {
            X = point.AffineXCoord.GetEncoded(),
            Y = point.AffineYCoord.GetEncoded(),
        };
    }

    public static ECDiffieHellman ImportPublic(ReadOnlySpan<byte> compressed) =>
        ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = Decompress(compressed) });

    public static ECDiffieHellman Import(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey)
    {
        var parameters = new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = Decompress(publicKey), D = privateKey.ToArray() };
        try
        {
            // The platform checks that D and Q belong together (and that Q is on the curve).
            return ECDiffieHellman.Create(parameters);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(parameters.D);
        }
    }

    public static bool IsKeyPair(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey)
    {
        try
        {
            using ECDiffieHellman key = Import(privateKey, publicKey);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
