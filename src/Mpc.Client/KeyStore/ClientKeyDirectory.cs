using Mpc.Protocol;
using Mpc.Protocol.Keys;

namespace Mpc.Client.KeyStore;

/// <summary>
/// A directory of key files, one per key (<c>KEYID.key</c>), written with <see cref="ClientKeyFile"/> and refreshed
/// crash-safely with <see cref="PendingKeyFile"/>. Registered by AddMpcSigner when
/// <see cref="DependencyInjection.MpcSignerOptions.KeyStoreDirectory"/> is set.
/// </summary>
public sealed class ClientKeyDirectory
{
    /// <summary>A store in <paramref name="directory"/>; the directory is created (owner-only) on the first save.</summary>
    public ClientKeyDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>The directory's full path.</summary>
    public string Directory { get; }

    /// <summary>The file that holds <paramref name="keyId"/>'s share.</summary>
    /// <exception cref="ArgumentException">Not a key id (1-64 characters of A-Z, a-z, 0-9, '-', '_'): a key id never names a path outside the directory.</exception>
    public string PathOf(string keyId) =>
        KeyIds.IsValid(keyId) ? Path.Combine(Directory, keyId + ".key") : throw new ArgumentException($"'{keyId}' is not a key id.", nameof(keyId));

    /// <summary>The key ids with a file here.</summary>
    public IReadOnlyList<string> KeyIdsStored() => System.IO.Directory.Exists(Directory)
        ? [.. System.IO.Directory.EnumerateFiles(Directory, "*.key").Select(Path.GetFileNameWithoutExtension).OfType<string>().Where(KeyIds.IsValid).Order(StringComparer.Ordinal)]
        : [];

    /// <summary>Saves <paramref name="share"/> (atomically and durably) as its key's file.</summary>
    public KeyFileInfo Save(ClientKeyShare share, string userId, KeyFileProtection protection)
    {
        ArgumentNullException.ThrowIfNull(share);
        EnsureDirectory();
        return ClientKeyFile.Save(PathOf(share.KeyId), share, userId, protection);
    }

    /// <summary>Loads and checks <paramref name="keyId"/>'s share (see <see cref="ClientKeyFile.Load(string, KeyFileProtection, MpcArithmetic)"/>).</summary>
    public ClientKeyShare Load(string keyId, KeyFileProtection protection, MpcArithmetic? arithmetic = null) =>
        ClientKeyFile.Load(PathOf(keyId), protection, arithmetic);

    /// <summary>
    /// Refreshes <paramref name="key"/> so that its file always holds a share the server accepts, whatever stops the
    /// process: <c>PendingKeyFile.UpdateAsync</c> on the key's file.
    /// </summary>
    public Task<MpcKey> RefreshAsync(IMpcSignerClient client, MpcKey key, string userId, KeyFileProtection protection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(key);
        return PendingKeyFile.UpdateAsync(client, PathOf(key.KeyId), userId, protection,
            save => client.RefreshKeyAsync(key, save, cancellationToken), cancellationToken: cancellationToken);
    }

    // The directory's own name is flushed into its parent, like every file written into it (DurableFile).
    private void EnsureDirectory() => Mpc.Storage.DurableFile.CreateOwnerOnlyDirectory(Directory);
}
