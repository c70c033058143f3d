using System.Security.Cryptography;
using Mpc.Client.Custody;
using Mpc.Client.KeyStore;
using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Proofs;

namespace Mpc.Client.DeviceProfiles;

/// <summary>
/// A <see cref="DeviceProfile"/> in a file, sealed like a key file: Argon2id on the passphrase, then AES-256-GCM
/// (<see cref="KeyFileProtection"/>, the client's one passphrase encryption), in the binary envelope of the share
/// backup. Format name, version, device id, creation time and (version 2) the public parameters (N̂, s, t) are the
/// clear header and the GCM associated data, and the sealed payload names the device id again, so a profile copied
/// from another device, edited or opened with another passphrase is refused, never replaced: only a caller that asks
/// for it (<c>Save</c> of a new profile) overwrites the file. Writes are atomic and durable (<see cref="SecretFile"/>).
/// Version 1 files (no parameters in the header) are still read; every save writes version 2.
/// </summary>
public sealed class DeviceProfileFile : IDeviceProfileStore, IDeviceProfilePeek
{
    /// <summary>The file versions read: 1 from before the parameters were in the header, and the one written.</summary>
    private static readonly uint[] ReadVersions = [1, DeviceProfile.Version];

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
    /// another passphrase, or a modified file (GCM cannot tell which). <see cref="MpcErrorReason.CorruptInput"/> (also:
    /// the sealed parameters differ from the header's),
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
            Envelope<ProfileHeader> envelope = Parse(file, _options.Minimum);
            // Checked before the passphrase: a foreign profile is named as such, without an Argon2id run.
            if (envelope.Header.DeviceId != _deviceId)
            {
                throw DeviceProfile.OtherDevice(envelope.Header.DeviceId, _deviceId);
            }
            // The profile's derivation is the one later key files of this command are sealed under (PassphraseKeyCache).
            secret = PassphraseEnvelope.Open(envelope, _protection.PassphraseText, "device profile", _protection.DerivedKeys, preferForSealing: true);
            DeviceProfile profile = DeviceProfile.ImportSecret(secret, _deviceId, _backend);
            // GCM already refuses edited header parameters (they are associated data). Checked again because a refresh
            // may have started on the header's parameters (the peek) before this opened: they must be the profile's own.
            if (envelope.Header.Parameters is { } clear && !clear.Equals(profile.RingPedersen.Parameters))
            {
                profile.Dispose();
                throw new MpcSignerException(MpcErrorReason.CorruptInput, "device profile is inconsistent: its clear parameters are not the sealed ones");
            }
            if (envelope.Header.Parameters is null && _protection.DerivedKeys is not null)
            {
                UpgradeToVersion2(profile, envelope.Kdf);
            }
            return profile;
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
        Write(profile, _protection.Kdf ?? _options.Kdf);
        return Task.CompletedTask;
    }

    private void Write(DeviceProfile profile, Argon2idParameters kdf)
    {
        byte[] secret = profile.ExportSecret();
        try
        {
            byte[] sealedFile = PassphraseEnvelope.Seal(DeviceProfile.Format, DeviceProfile.Version,
                writer =>
                {
                    writer.WriteString(profile.DeviceId).WriteTime(profile.CreatedAt);
                    profile.RingPedersen.Parameters.WriteTo(writer);
                },
                secret, _protection.PassphraseText, kdf, _protection.DerivedKeys, preferForSealing: true);
            SecretFile.WriteAtomically(Path, sealedFile);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>
    /// A version 1 profile just opened through a command's derived-key cache is re-sealed as version 2 under its own
    /// Argon2id parameters, so with the salt and key just derived (no second Argon2id) and a fresh nonce: from then
    /// on a refresh can start from its public parameters. Without a cache it stays version 1 (re-sealing would cost
    /// a derivation); a file that cannot be rewritten (read-only directory) stays version 1 too, and still works.
    /// </summary>
    private void UpgradeToVersion2(DeviceProfile profile, Argon2idParameters kdf)
    {
        try
        {
            Write(profile, kdf);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still a valid version 1 profile.
        }
    }

    /// <summary>
    /// The header's public parameters, read without the passphrase (no Argon2id), after their shape check; null when
    /// there is no file, it is version 1, or it names another device. Null too when the file cannot be read or its
    /// header does not parse: the peek only lets a key generation or refresh start early, and <see cref="LoadAsync"/>, which runs next
    /// anyway, is where such a file is refused with a message that names it.
    /// </summary>
    async ValueTask<RingPedersenParameters?> IDeviceProfilePeek.PeekParametersAsync(CancellationToken cancellationToken)
    {
        try
        {
            byte[] file = await File.ReadAllBytesAsync(Path, cancellationToken).ConfigureAwait(false);
            ProfileHeader header = Parse(file, _options.Minimum).Header;
            if (header.DeviceId != _deviceId || header.Parameters is null)
            {
                return null;
            }
            header.Parameters.Validate();
            return header.Parameters;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or MpcSignerException or MpcProtocolException)
        {
            return null;
        }
    }

    /// <summary>The clear header without the passphrase (for showing which device a file names): form-checked, not authenticated.</summary>
    public static (string DeviceId, DateTimeOffset CreatedAt) ReadHeader(string path)
    {
        ProfileHeader header = Parse(File.ReadAllBytes(path), minimum: null).Header;
        return (header.DeviceId, header.CreatedAt);
    }

    private static Envelope<ProfileHeader> Parse(ReadOnlySpan<byte> file, Argon2idParameters? minimum) =>
        PassphraseEnvelope.Parse(file, DeviceProfile.Format, ReadVersions, Kind, ReadHeader, minimum);

    private static ProfileHeader ReadHeader(ref WireReader reader, uint version) =>
        new(CustodyFields.ReadDeviceId(ref reader, "device id"), CustodyFields.ReadTime(ref reader, "created at"),
            version >= 2 ? RingPedersenParameters.ReadFrom(ref reader) : null);

    /// <summary>The clear header; <see cref="Parameters"/> is null in a version 1 file.</summary>
    private sealed record ProfileHeader(string DeviceId, DateTimeOffset CreatedAt, RingPedersenParameters? Parameters);
}
