using System.Security.Cryptography;
using Mpc.Client.Custody;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Proofs;

namespace Mpc.Client.DeviceProfiles;

/// <summary>
/// One device's long-lived proof parameters: the ring-Pedersen trapdoor (N̂ = p̂·q̂ from two safe primes, s = t^λ) the
/// client, as verifier, hands the server for every key generation and refresh. Creating it costs two safe primes
/// (0.8–1.6 s, sometimes several seconds), so a device makes it once and keeps it sealed in an
/// <see cref="IDeviceProfileStore"/>. Reusing it across keys is safe: the parameters are the verifier's own, Πprm is
/// proven bound to a session (and left out once the server holds them as verified), and the server learns nothing from seeing N̂ twice except that the
/// two keys belong to one device (docs/key-custody.md, "Device profile").
/// </summary>
public sealed class DeviceProfile : IDisposable
{
    /// <summary>The format name, inside the sealed bytes and in the file's associated data.</summary>
    internal const string Format = "mpc-signer/device-profile";

    /// <summary>
    /// The file's version (<see cref="DeviceProfileFile"/>): 2 carries the public parameters in the clear header,
    /// 1 (still read) does not.
    /// </summary>
    internal const uint Version = 2;

    /// <summary>
    /// The version of <see cref="ExportSecret"/>'s bytes, which stay as they were: version 2 changed only the file's
    /// clear header, the sealed payload of either file version is the same, and these bytes are also what an app keeps
    /// in the platform's key store, so bumping them would only make an older SDK refuse unchanged content.
    /// </summary>
    internal const uint SecretVersion = 1;

    private DeviceProfile(string deviceId, DateTimeOffset createdAt, RingPedersenSecret ringPedersen)
    {
        DeviceId = deviceId;
        CreatedAt = createdAt;
        RingPedersen = ringPedersen;
    }

    /// <summary>The device this profile belongs to; a store refuses a profile that names another device.</summary>
    public string DeviceId { get; }

    /// <summary>When the parameters were generated (whole milliseconds, UTC).</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>The ring-Pedersen trapdoor; never leaves the device (and, being BouncyCastle-typed, never leaves the SDK's internals).</summary>
    internal RingPedersenSecret RingPedersen { get; }

    /// <summary>The bit length of the ring-Pedersen modulus N̂ (public), for display.</summary>
    public int ModulusBits => RingPedersen.Parameters.N.BitLength;

    /// <summary>A short public fingerprint of N̂ (first 16 hex digits of its SHA-256), to tell two profiles apart.</summary>
    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(RingPedersen.Parameters.N.ToByteArrayUnsigned()))[..16];

    /// <summary>Generates a new profile for <paramref name="deviceId"/> (two safe primes: about a second, sometimes several).</summary>
    /// <exception cref="ArgumentException">The device id is empty, longer than 128 characters or has control characters.</exception>
    public static DeviceProfile Create(string deviceId, MpcArithmetic? arithmetic = null, TimeProvider? timeProvider = null) =>
        Create(deviceId, (arithmetic ?? MpcArithmetic.Default).Backend, timeProvider);

    internal static DeviceProfile Create(string deviceId, IBigNumBackend backend, TimeProvider? timeProvider = null)
    {
        CustodyFields.RequireDeviceId(deviceId, nameof(deviceId));
        RingPedersenSecret secret = RingPedersenSecret.Generate(backend);
        return new DeviceProfile(deviceId, CustodyFields.Truncate((timeProvider ?? TimeProvider.System).GetUtcNow()), secret);
    }

    /// <summary>A profile around existing parameters (tests reuse one set: safe primes are slow). The caller keeps ownership.</summary>
    internal static DeviceProfile From(string deviceId, RingPedersenSecret ringPedersen, DateTimeOffset createdAt)
    {
        CustodyFields.RequireDeviceId(deviceId, nameof(deviceId));
        return new DeviceProfile(deviceId, CustodyFields.Truncate(createdAt), ringPedersen);
    }

    /// <summary>
    /// The profile as bytes for a store to seal: format, version, device id, creation time and the ring-Pedersen
    /// secret, framed by <see cref="WireWriter"/>. Secret: the caller seals them and zeroes the array.
    /// </summary>
    public byte[] ExportSecret()
    {
        byte[] ringPedersen = RingPedersen.ExportSecret();
        try
        {
            return WireWriter.ToSecretArray(writer => writer.WriteString(Format).WriteUInt32(SecretVersion).WriteString(DeviceId).WriteTime(CreatedAt)
                .WriteBytes(ringPedersen));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ringPedersen);
        }
    }

    /// <summary>
    /// Reads <see cref="ExportSecret"/>'s bytes for <paramref name="expectedDeviceId"/> and checks the parameters
    /// (<see cref="RingPedersenSecret.ImportSecret"/>: their public shape and t^λ = s) before anything uses them.
    /// </summary>
    /// <exception cref="MpcSignerException">
    /// <see cref="MpcErrorReason.OtherDevice"/> for another device's profile; <see cref="MpcErrorReason.UnsupportedVersion"/>;
    /// <see cref="MpcErrorReason.CorruptInput"/> for bytes that do not parse or parameters that fail the checks.
    /// </exception>
    public static DeviceProfile ImportSecret(ReadOnlySpan<byte> secret, string expectedDeviceId, MpcArithmetic? arithmetic = null) =>
        ImportSecret(secret, expectedDeviceId, (arithmetic ?? MpcArithmetic.Default).Backend);

    internal static DeviceProfile ImportSecret(ReadOnlySpan<byte> secret, string expectedDeviceId, IBigNumBackend backend)
    {
        CustodyFields.RequireDeviceId(expectedDeviceId, nameof(expectedDeviceId));
        try
        {
            var reader = new WireReader(secret);
            if (reader.ReadString("format", 64) != Format)
            {
                throw new MpcSignerException(MpcErrorReason.WrongKind, "not a device profile");
            }
            uint version = reader.ReadUInt32("version");
            if (version != SecretVersion)
            {
                throw new MpcSignerException(MpcErrorReason.UnsupportedVersion, $"device profile version {version} is not supported by this client (expected {SecretVersion})");
            }
            string deviceId = CustodyFields.ReadDeviceId(ref reader, "device id");
            if (deviceId != expectedDeviceId)
            {
                throw OtherDevice(deviceId, expectedDeviceId);
            }
            DateTimeOffset createdAt = CustodyFields.ReadTime(ref reader, "created at");
            RingPedersenSecret ringPedersen = RingPedersenSecret.ImportSecret(reader.ReadBytes("ring-Pedersen secret"), backend);
            try
            {
                reader.EnsureEnd("device profile");
            }
            catch
            {
                ringPedersen.Dispose();
                throw;
            }
            return new DeviceProfile(deviceId, createdAt, ringPedersen);
        }
        catch (Exception e) when (e is MpcProtocolException or FormatException or ArgumentException)
        {
            throw new MpcSignerException(MpcErrorReason.CorruptInput, $"device profile is corrupt or its parameters fail their checks ({e.Message.TrimEnd('.')})", e);
        }
    }

    internal static MpcSignerException OtherDevice(string profileDevice, string thisDevice) =>
        new(MpcErrorReason.OtherDevice, $"device profile belongs to device {profileDevice}, not to this device ({thisDevice})");

    /// <summary>Forgets the trapdoor (the big integers are dropped; they cannot be wiped in place).</summary>
    public void Dispose() => RingPedersen.Dispose();

    public override string ToString() => $"DeviceProfile({DeviceId}, {Fingerprint})";
}
