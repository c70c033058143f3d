using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Mpc.Grains.Storage;
using Orleans.Serialization;
using Orleans.Storage;

namespace Mpc.Grains.Tests.Storage;

[GenerateSerializer, Alias("Mpc.Grains.Tests.Storage.TestState")]
public sealed class TestState
{
    [Id(0)] public string Name { get; set; } = "";
    [Id(1)] public int Counter { get; set; }
    [Id(2)] public byte[] Blob { get; set; } = [];
}

/// <summary>What the grain runtime hands to a storage provider, with a non-null state like a real activation's.</summary>
internal sealed class FakeGrainState : IGrainState<TestState>
{
    private TestState _state = new();

    [AllowNull]
    public TestState State
    {
        get => _state;
        set => _state = value ?? new TestState();
    }

    public string? ETag { get; set; }
    public bool RecordExists { get; set; }
}

public sealed class FileGrainStorageTests : IDisposable
{
    private const string StateName = "state";
    private static readonly Serializer Serializer =
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    private readonly TempDirectory _dir = new();
    private readonly GrainId _grain = GrainId.Create("key", "user-1/key-1");

    public void Dispose() => _dir.Dispose();

    private FileGrainStorage NewStorage() => new("test", _dir.Path, Serializer);

    private static FakeGrainState Fresh() => new();

    private static FakeGrainState With(string name, int counter, string? etag = null) =>
        new() { State = new TestState { Name = name, Counter = counter, Blob = [1, 2, 3] }, ETag = etag };

    [Fact]
    public async Task Write_then_read_survives_a_restart()
    {
        var written = With("alice", 7);
        await NewStorage().WriteStateAsync(StateName, _grain, written);
        Assert.True(written.RecordExists);
        Assert.NotNull(written.ETag);

        var read = Fresh();
        await NewStorage().ReadStateAsync(StateName, _grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal("alice", read.State.Name);
        Assert.Equal(7, read.State.Counter);
        Assert.Equal(new byte[] { 1, 2, 3 }, read.State.Blob);
    }

    [Fact]
    public async Task Successive_writes_with_the_current_etag_succeed_and_change_it()
    {
        var storage = NewStorage();
        var state = With("alice", 1);
        await storage.WriteStateAsync(StateName, _grain, state);
        string first = state.ETag!;
        state.State.Counter = 2;
        await storage.WriteStateAsync(StateName, _grain, state);
        Assert.NotEqual(first, state.ETag);

        var read = Fresh();
        await NewStorage().ReadStateAsync(StateName, _grain, read);
        Assert.Equal(2, read.State.Counter);
        Assert.Equal(state.ETag, read.ETag);
    }

    [Fact]
    public async Task Missing_record_reads_as_default()
    {
        var read = Fresh();
        await NewStorage().ReadStateAsync(StateName, _grain, read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.Equal("", read.State.Name);
    }

    [Fact]
    public async Task Stale_etag_write_throws_and_leaves_the_file_unchanged()
    {
        var storage = NewStorage();
        var activationA = Fresh();
        await storage.ReadStateAsync(StateName, _grain, activationA);
        var activationB = Fresh();
        await storage.ReadStateAsync(StateName, _grain, activationB);

        activationA.State.Name = "from A";
        await storage.WriteStateAsync(StateName, _grain, activationA);
        string path = storage.GetFilePath(StateName, _grain);
        byte[] before = File.ReadAllBytes(path);

        activationB.State.Name = "from B";
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, _grain, activationB));
        Assert.Equal(before, File.ReadAllBytes(path));

        // A made-up etag is refused too, and so is an etag against a record that does not exist.
        await Assert.ThrowsAsync<InconsistentStateException>(
            () => storage.WriteStateAsync(StateName, _grain, With("x", 0, "1-0000000000000000")));
        await Assert.ThrowsAsync<InconsistentStateException>(
            () => storage.WriteStateAsync(StateName, GrainId.Create("key", "nobody"), With("x", 0, "1-0000000000000000")));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Etag_from_before_a_clear_does_not_match_a_later_record()
    {
        var storage = NewStorage();
        var old = With("old", 1);
        await storage.WriteStateAsync(StateName, _grain, old);
        var other = Fresh();
        await storage.ReadStateAsync(StateName, _grain, other);
        await storage.ClearStateAsync(StateName, _grain, other);
        await storage.WriteStateAsync(StateName, _grain, other);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, _grain, old));
    }

    [Fact]
    public async Task Corrupt_file_gives_a_clear_exception_naming_the_file()
    {
        var storage = NewStorage();
        var state = With("alice", 7);
        await storage.WriteStateAsync(StateName, _grain, state);
        string path = storage.GetFilePath(StateName, _grain);
        byte[] good = File.ReadAllBytes(path);

        byte[][] corruptions =
        [
            good[..(good.Length / 2)],
            good[..^1],
            [],
            Flip(good, good.Length / 2),
            Flip(good, 5),
        ];
        foreach (byte[] contents in corruptions)
        {
            File.WriteAllBytes(path, contents);
            var ex = await Assert.ThrowsAsync<CorruptGrainStateException>(
                () => NewStorage().ReadStateAsync(StateName, _grain, Fresh()));
            Assert.Equal(path, ex.FilePath);
            Assert.Contains(path, ex.Message);
            // Never silently replaced either.
            await Assert.ThrowsAsync<CorruptGrainStateException>(
                () => NewStorage().WriteStateAsync(StateName, _grain, With("new", 0, state.ETag)));
            Assert.Equal(contents, File.ReadAllBytes(path));
        }
    }

    [Fact]
    public async Task File_of_another_grain_is_refused()
    {
        var storage = NewStorage();
        var other = GrainId.Create("key", "user-2/key-1");
        await storage.WriteStateAsync(StateName, other, With("bob", 1));
        File.Copy(storage.GetFilePath(StateName, other), storage.GetFilePath(StateName, _grain));

        var ex = await Assert.ThrowsAsync<CorruptGrainStateException>(() => storage.ReadStateAsync(StateName, _grain, Fresh()));
        Assert.Contains("user-2/key-1", ex.Message);
    }

    [Fact]
    public async Task No_temp_files_are_left_behind()
    {
        var storage = NewStorage();
        var state = Fresh();
        for (int i = 0; i < 5; i++)
        {
            state.State.Counter = i;
            await storage.WriteStateAsync(StateName, _grain, state);
        }
        string[] files = Directory.GetFiles(storage.Directory);
        Assert.Equal([storage.GetFilePath(StateName, _grain)], files);
    }

    [Fact]
    public async Task State_files_and_directory_are_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var storage = NewStorage();
        await storage.WriteStateAsync(StateName, _grain, With("alice", 1));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(storage.GetFilePath(StateName, _grain)));
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(storage.Directory));
    }

    [Fact]
    public async Task Clear_deletes_the_file()
    {
        var storage = NewStorage();
        var state = With("alice", 1);
        await storage.WriteStateAsync(StateName, _grain, state);
        string path = storage.GetFilePath(StateName, _grain);
        Assert.True(File.Exists(path));

        await storage.ClearStateAsync(StateName, _grain, state);
        Assert.False(File.Exists(path));
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);

        var read = Fresh();
        await NewStorage().ReadStateAsync(StateName, _grain, read);
        Assert.False(read.RecordExists);
    }

    [Fact]
    public async Task Clear_with_a_stale_etag_throws_and_keeps_the_file()
    {
        var storage = NewStorage();
        var stale = With("alice", 1);
        await storage.WriteStateAsync(StateName, _grain, stale);
        var current = Fresh();
        await storage.ReadStateAsync(StateName, _grain, current);
        await storage.WriteStateAsync(StateName, _grain, current);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, _grain, stale));
        Assert.True(File.Exists(storage.GetFilePath(StateName, _grain)));
    }

    [Fact]
    public async Task Tricky_grain_ids_map_to_distinct_safe_files()
    {
        var storage = NewStorage();
        GrainId[] ids =
        [
            GrainId.Create("key", "a/b"),
            GrainId.Create("key", "a_b"),
            GrainId.Create("key", "a\\b"),
            GrainId.Create("key", "../../etc/passwd"),
            GrainId.Create("key/a", "b"),
            GrainId.Create("key", "A/B"),
        ];
        for (int i = 0; i < ids.Length; i++)
        {
            await storage.WriteStateAsync(StateName, ids[i], With(ids[i].ToString(), i));
        }

        var paths = ids.Select(id => storage.GetFilePath(StateName, id)).ToList();
        Assert.Equal(ids.Length, paths.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(paths, p => Assert.Equal(storage.Directory, Path.GetDirectoryName(p)));
        Assert.Equal(ids.Length, Directory.GetFiles(storage.Directory).Length);
        for (int i = 0; i < ids.Length; i++)
        {
            var read = Fresh();
            await NewStorage().ReadStateAsync(StateName, ids[i], read);
            Assert.Equal(ids[i].ToString(), read.State.Name);
            Assert.Equal(i, read.State.Counter);
        }

        // The same grain under another state name is a separate file.
        Assert.NotEqual(storage.GetFilePath("other", ids[0]), storage.GetFilePath(StateName, ids[0]));
    }

    [Fact]
    public async Task Concurrent_writers_with_one_etag_let_exactly_one_win()
    {
        var storage = NewStorage();
        var initial = With("start", 0);
        await storage.WriteStateAsync(StateName, _grain, initial);

        var attempts = Enumerable.Range(1, 8).Select(i => With($"writer {i}", i, initial.ETag)).ToArray();
        var results = await Task.WhenAll(attempts.Select(async a =>
        {
            try
            {
                await storage.WriteStateAsync(StateName, _grain, a);
                return true;
            }
            catch (InconsistentStateException)
            {
                return false;
            }
        }));
        Assert.Equal(1, results.Count(r => r));
    }

    [Fact]
    public async Task A_write_flushes_the_directory_after_the_rename_and_before_it_returns()
    {
        // A power cut after the reply must not bring back the previous record (a freeze, above all): the new name is
        // durable only once its directory is flushed, so the flush must see the renamed file and precede completion.
        var flushes = new List<(string Directory, string? NameSeen, bool TemporaryLeft)>();
        FileGrainStorage? storage = null;
        storage = new FileGrainStorage("test", _dir.Path, Serializer, directory =>
        {
            // Read the file itself: the provider's own read would wait for the lock this write holds.
            string path = storage!.GetFilePath(StateName, _grain);
            string? name = File.Exists(path)
                ? Serializer.Deserialize<TestState>(GrainStateFileFormat.Decode(path, File.ReadAllBytes(path), StateName, _grain).Payload)!.Name
                : null;
            flushes.Add((directory, name, System.IO.Directory.EnumerateFiles(directory, "*.tmp").Any()));
        });

        await storage.WriteStateAsync(StateName, _grain, With("first", 1));
        var state = With("second", 2);
        state.ETag = (await ReadBack()).ETag;
        await storage.WriteStateAsync(StateName, _grain, state);

        // The first write also created the directory, so its parent (the data directory) was flushed first.
        Assert.Equal(
            [(Path.GetFullPath(_dir.Path), null, false), (storage.Directory, "first", false), (storage.Directory, "second", false)],
            flushes.Select(f => (f.Directory, f.NameSeen, f.TemporaryLeft)).ToArray());
    }

    [Fact]
    public async Task A_clear_flushes_the_directory_after_the_delete()
    {
        var flushes = new List<bool>();
        FileGrainStorage? storage = null;
        storage = new FileGrainStorage("test", _dir.Path, Serializer, _ => flushes.Add(File.Exists(storage!.GetFilePath(StateName, _grain))));
        var state = With("alice", 1);
        await storage.WriteStateAsync(StateName, _grain, state);
        flushes.Clear();

        await storage.ClearStateAsync(StateName, _grain, state);

        Assert.Equal([false], flushes);
    }

    [Fact]
    public async Task A_directory_that_cannot_be_flushed_fails_the_write()
    {
        // The caller must not take the write as durable: a freeze whose flush failed stays "not yet durable" (fail closed).
        var storage = new FileGrainStorage("test", _dir.Path, Serializer, directory =>
        {
            if (directory.EndsWith(FileGrainStorage.DirectoryName, StringComparison.Ordinal))
            {
                throw new IOException($"cannot flush directory {directory} (errno 5)");
            }
        });
        var state = With("alice", 1);

        IOException error = await Assert.ThrowsAsync<IOException>(() => storage.WriteStateAsync(StateName, _grain, state));

        Assert.Contains("errno 5", error.Message);
        Assert.Null(state.ETag);
        Assert.False(state.RecordExists);
    }

    [Fact]
    public void The_libc_directory_flush_works_on_a_directory_and_names_one_it_cannot_open()
    {
        Mpc.Storage.DirectoryFlush.Flush(_dir.Path);
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string missing = Path.Combine(_dir.Path, "missing");
        IOException error = Assert.Throws<IOException>(() => Mpc.Storage.DirectoryFlush.Flush(missing));
        Assert.Contains(missing, error.Message);
    }

    private async Task<FakeGrainState> ReadBack()
    {
        var read = Fresh();
        await NewStorage().ReadStateAsync(StateName, _grain, read);
        return read;
    }

    private static byte[] Flip(byte[] data, int position)
    {
        byte[] copy = (byte[])data.Clone();
        copy[position] ^= 0x01;
        return copy;
    }
}
