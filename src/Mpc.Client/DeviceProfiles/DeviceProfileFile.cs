using System.Security.Cryptography;
using Mpc.Client.Custody;
using Mpc.Client.KeyStore;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Encoding;

namespace Mpc.Client.DeviceProfiles;

/// <summary>
/// A <see cref="DeviceProfile"/> in a file, sealed like a key file: Argon2id on the passphrase, then AES-256-GCM
/// (<see cref="KeyFileProtection"/>, the client's one passphrase encryption), in the binary envelope of the share
/// backup. Format name, version, device id and creation time are the clear header and the GCM associated data,
/// and the sealed payload names the device id again, so a profile copied from another device, edited or opened
/// with another passphrase is refused, never replaced: only a caller that asks for it (<c>Save</c> of a new profile)
/// overwrites the file. Writes are atomic and durable (<see cref="SecretFile"/>).
/// </summary>
public sealed class DeviceProfileFile : IDeviceProfileStore
{
    internal const string Kind = "a device profile";

    private readonly string _deviceId;
    private readonly KeyFileProtection _protection;
    private readonly IBigNumBackend _backend;
    private readonly KeyFileOptions _options;

    /// <summary>A profile at <paramref name="path"/> for <paramref name="deviceId"/>, sealed under <paramref name="protection"/>'s passphrase.</summary>
    /// <exception cref="ArgumentException">
    /// <paramref name="protection"/> is <see cref="KeyFileProtection.Unprotected"/> (a profile is always sealed), or the
    /// device id is empty, longer than 128 characters or has control characters.
    /// </exception>
    public DeviceProfileFile(string path, string deviceId, KeyFileProtection protection, MpcArithmetic? arithmetic = null)
        : this(path, deviceId, protection, (arithmetic ?? MpcArithmetic.Default).Backend, KeyFileOptions.Default)
    {
    }

    internal DeviceProfileFile(string path, string deviceId, KeyFileProtection protection, IBigNumBackend? backend, KeyFileOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(protection);
        ArgumentNullException.ThrowIfNull(options);
        CustodyFields.RequireDeviceId(deviceId, nameof(deviceId));
        if (!protection.IsProtected)
        {
            throw new ArgumentException("A device profile is always sealed under a passphrase.", nameof(protection));
        }
        Path = path;
        _deviceId = deviceId;
        _protection = protection;
        _backend = backend ?? BigNumBackends.Default;
        _options = options;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public string DeviceId => _deviceId;

    /// <summary>Null when the file does not exist; otherwise the checked profile.</summary>
    /// <exception cref="MpcSignerException">
    /// <see cref="MpcErrorReason.OtherDevice"/>: made for another device. <see cref="MpcErrorReason.WrongPassphrase"/>:
    /// another passphrase, or a modified file (GCM cannot tell which). <see cref="MpcErrorReason.CorruptInput"/>,
    /// <see cref="MpcErrorReason.WrongKind"/>, <see cref="MpcErrorReason.UnsupportedVersion"/>, <see cref="MpcErrorReason.KdfDowngrade"/>.
    /// Every message names the file and is one line.
    /// </exception>
    public async Task<DeviceProfile?> LoadAsync(CancellationToken cancellationToken)
    {
        byte[] file;
        try
        {
            file = await File.ReadAllBytesAsync(Path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        byte[]? secret = null;
        try
        {
            Envelope<ProfileHeader> envelope = PassphraseEnvelope.Parse(file, DeviceProfile.Format, DeviceProfile.Version, Kind, ReadHeader, _options.Minimum);
            // Checked before the passphrase: a foreign profile is named as such, without an Argon2id run.
            if (envelope.Header.DeviceId != _deviceId)
            {
                throw DeviceProfile.OtherDevice(envelope.Header.DeviceId, _deviceId);
            }
            // The profile's derivation is the one later key files of this command are sealed under (PassphraseKeyCache).
            secret = PassphraseEnvelope.Open(envelope, _protection.PassphraseText, "device profile", _protection.DerivedKeys, preferForSealing: true);
            return DeviceProfile.ImportSecret(secret, _deviceId, _backend);
        }
        catch (MpcSignerException e)
        {
            throw new MpcSignerException(e.Reason, $"{Path}: {e.Message}", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(file);
            if (secret is not null)
            {
                CryptographicOperations.ZeroMemory(secret);
            }
        }
    }

    /// <summary>Seals <paramref name="profile"/> (fresh salt and nonce) and replaces the file atomically.</summary>
    /// <exception cref="ArgumentException">The profile belongs to another device id than this store's.</exception>
    public Task SaveAsync(DeviceProfile profile, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.DeviceId != _deviceId)
        {
            throw new ArgumentException($"The profile belongs to device {profile.DeviceId}, not {_deviceId}.", nameof(profile));
        }
        cancellationToken.ThrowIfCancellationRequested();
        byte[] secret = profile.ExportSecret();
        try
        {
            byte[] sealedFile = PassphraseEnvelope.Seal(DeviceProfile.Format, DeviceProfile.Version,
                writer => writer.WriteString(profile.DeviceId).WriteTime(profile.CreatedAt),
                secret, _protection.PassphraseText, _protection.Kdf ?? _options.Kdf, _protection.DerivedKeys, preferForSealing: true);
            SecretFile.WriteAtomically(Path, sealedFile);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
        return Task.CompletedTask;
    }

    /// <summary>The clear header without the passphrase (for showing which device a file names): form-checked, not authenticated.</summary>
    public static (string DeviceId, DateTimeOffset CreatedAt) ReadHeader(string path)
    {
        ProfileHeader header = PassphraseEnvelope.Parse(File.ReadAllBytes(path), DeviceProfile.Format, DeviceProfile.Version, Kind, ReadHeader, minimum: null).Header;
        return (header.DeviceId, header.CreatedAt);
    }

    private static ProfileHeader ReadHeader(ref WireReader reader) =>
        new(CustodyFields.ReadDeviceId(ref reader, "device id"), CustodyFields.ReadTime(ref reader, "created at"));

    private sealed record ProfileHeader(string DeviceId, DateTimeOffset CreatedAt);
}
