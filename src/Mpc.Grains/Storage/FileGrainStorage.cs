using System.Security.Cryptography;
using System.Text;
using Mpc.Crypto.Encoding;
using Mpc.Grains.Abstractions;
using Mpc.Storage;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace Mpc.Grains.Storage;

/// <summary>
/// Durable grain state on local disk: one owner-only file per (state name, grain id) under
/// <c>&lt;dataDir&gt;/grains/</c>, written to a temporary file, flushed to disk and renamed over the old one.
/// Writes and clears are ETag-checked, so a duplicate activation cannot silently overwrite a newer write.
/// </summary>
/// <remarks>
/// <para>File format: see <see cref="GrainStateFileFormat"/>.
/// A file that fails any check is reported, never treated as missing.</para>
/// <para>The ETag is "version-random": it never repeats, even after a clear, so an old activation
/// holding a stale ETag cannot match a newer record.</para>
/// <para>Files are owner-only but not encrypted: seal secrets (<c>ShareSealer</c>) before they reach grain state.
/// The rename is atomic, and the directory is flushed after it (and after a clear's delete) before the call returns:
/// an acknowledged write, a freeze above all, survives a power cut; an interrupted one leaves the previous version,
/// never a torn one.</para>
/// <para>ETag checks are serialized within this process; a data directory belongs to one silo process.
/// The payload of one grain state is at most <see cref="WireReader.MaxFieldLength"/> bytes.</para>
/// </remarks>
public sealed class FileGrainStorage : IGrainStorage
{
    public const string DirectoryName = "grains";
    public const string FileExtension = ".grain";


    // Striped, and shared by every instance in the process, so two providers on one directory still serialize.
    private static readonly SemaphoreSlim[] Stripes = CreateStripes(64);

    private readonly string _name;
    private readonly Serializer _serializer;
    private readonly Action<string> _flushDirectory;

    public FileGrainStorage(string name, string dataDirectory, Serializer serializer)
        : this(name, dataDirectory, serializer, DirectoryFlush.Flush)
    {
    }

    /// <summary>The same, with the directory fsync replaced: tests observe when it runs.</summary>
    internal FileGrainStorage(string name, string dataDirectory, Serializer serializer, Action<string> flushDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentNullException.ThrowIfNull(flushDirectory);
        _name = name;
        _serializer = serializer;
        _flushDirectory = flushDirectory;
        Directory = Path.Combine(Path.GetFullPath(dataDirectory), DirectoryName);
    }

    /// <summary>The directory holding the state files.</summary>
    public string Directory { get; }

    /// <summary>
    /// The file for one grain's state: a readable prefix of the state name, then the hex SHA-256 of the
    /// (state name, grain type, grain key) triple, so any grain id maps to a distinct, safe file name.
    /// </summary>
    public string GetFilePath(string stateName, GrainId grainId)
    {
        // Type and key separately: GrainId.ToString() joins them with '/', which is ambiguous ("a/b" + "c" vs "a" + "b/c").
        byte[] digest = SHA256.HashData(new WireWriter()
            .WriteString(stateName)
            .WriteString(grainId.Type.ToString()!)
            .WriteString(grainId.Key.ToString()!)
            .WrittenSpan);
        return Path.Combine(Directory, $"{ReadablePrefix(stateName)}-{Convert.ToHexStringLower(digest)}{FileExtension}");
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        string path = GetFilePath(stateName, grainId);
        SemaphoreSlim stripe = StripeFor(path);
        await stripe.WaitAsync(cancellationToken);
        try
        {
            GrainStateFileFormat.StoredRecord? record = await LoadAsync(path, stateName, grainId, cancellationToken);
            if (record is null)
            {
                grainState.ETag = null;
                grainState.RecordExists = false;
                return;
            }
            T? state;
            try
            {
                state = _serializer.Deserialize<T>(record.Payload);
            }
            catch (Exception ex)
            {
                throw new CorruptGrainStateException(path, $"its payload does not deserialize as {typeof(T).FullName}", ex);
            }
            grainState.State = state ?? Activator.CreateInstance<T>();
            grainState.ETag = record.ETag;
            grainState.RecordExists = true;
        }
        finally
        {
            stripe.Release();
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        byte[] payload = _serializer.SerializeToArray(grainState.State);
        if (payload.Length > WireReader.MaxFieldLength)
        {
            throw new InvalidOperationException(
                $"Grain state '{stateName}' of {grainId} serializes to {payload.Length} bytes; {_name} stores at most {WireReader.MaxFieldLength}.");
        }

        string path = GetFilePath(stateName, grainId);
        SemaphoreSlim stripe = StripeFor(path);
        await stripe.WaitAsync(cancellationToken);
        try
        {
            GrainStateFileFormat.StoredRecord? current = await LoadAsync(path, stateName, grainId, cancellationToken);
            CheckETag(current, grainState.ETag, stateName, grainId, "write");

            ulong version = current is null ? 1 : checked(current.Version + 1);
            string etag = $"{version}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
            byte[] contents = GrainStateFileFormat.Encode(stateName, grainId, version, etag, payload);
            await WriteAtomicallyAsync(path, contents, cancellationToken);

            grainState.ETag = etag;
            grainState.RecordExists = true;
        }
        finally
        {
            stripe.Release();
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        string path = GetFilePath(stateName, grainId);
        SemaphoreSlim stripe = StripeFor(path);
        await stripe.WaitAsync(cancellationToken);
        try
        {
            GrainStateFileFormat.StoredRecord? current = await LoadAsync(path, stateName, grainId, cancellationToken);
            CheckETag(current, grainState.ETag, stateName, grainId, "clear");
            if (current is not null)
            {
                File.Delete(path);
                _flushDirectory(Directory);
            }
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
        finally
        {
            stripe.Release();
        }
    }

    private void CheckETag(GrainStateFileFormat.StoredRecord? current, string? expected, string stateName, GrainId grainId, string operation)
    {
        string? stored = current?.ETag;
        if (!string.Equals(stored, expected, StringComparison.Ordinal))
        {
            throw new InconsistentStateException(
                $"{_name}: refusing to {operation} state '{stateName}' of {grainId}: it changed since this activation read it " +
                "(another activation wrote or cleared it).",
                stored ?? "<none>",
                expected ?? "<none>");
        }
    }

    private async Task WriteAtomicallyAsync(string path, byte[] contents, CancellationToken cancellationToken)
    {
        EnsureDirectory();
        await DurableFile.WriteAsync(path, contents, overwrite: true, ownerOnly: true, _flushDirectory, cancellationToken);
    }

    private void EnsureDirectory() => DurableFile.CreateOwnerOnlyDirectory(Directory, _flushDirectory);

    private static async Task<GrainStateFileFormat.StoredRecord?> LoadAsync(string path, string stateName, GrainId grainId, CancellationToken cancellationToken)
    {
        byte[] contents;
        try
        {
            contents = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        return GrainStateFileFormat.Decode(path, contents, stateName, grainId);
    }

    private static string ReadablePrefix(string stateName)
    {
        var prefix = new StringBuilder(capacity: 32);
        foreach (char c in stateName)
        {
            if (prefix.Length == 32)
            {
                break;
            }
            prefix.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        }
        return prefix.Length == 0 ? "state" : prefix.ToString();
    }

    private static SemaphoreSlim StripeFor(string path)
    {
        uint hash = unchecked((uint)StringComparer.Ordinal.GetHashCode(path));
        return Stripes[hash % (uint)Stripes.Length];
    }

    private static SemaphoreSlim[] CreateStripes(int count)
    {
        var stripes = new SemaphoreSlim[count];
        for (int i = 0; i < count; i++)
        {
            stripes[i] = new SemaphoreSlim(1, 1);
        }
        return stripes;
    }
}
