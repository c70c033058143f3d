using System.Text;
using Mpc.Storage;

namespace Mpc.Grains.Tests.Storage;

/// <summary>
/// The shared durable write (src/Shared/DurableFile.cs), through the copy compiled into Mpc.Grains: the client and the
/// server compile the same source.
/// </summary>
public sealed class DurableFileTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly TempDirectory _dir = new();
    private readonly List<string> _flushes = [];

    public void Dispose() => _dir.Dispose();

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private string Target => _dir.File("target");

    private void RecordFlush(string directory) => _flushes.Add(directory);

    private string[] Leftovers() => Directory.GetFiles(_dir.Path).Where(f => f != Target).ToArray();

    [Fact]
    public void Overwrite_replaces_the_content_and_flushes_the_directory_after_the_rename()
    {
        File.WriteAllText(Target, "old");
        var seen = new List<string>();

        bool placed = DurableFile.Write(Target, Bytes("new"), overwrite: true, ownerOnly: true, directory =>
        {
            seen.Add(File.ReadAllText(Target));
            Assert.Empty(Leftovers());
            RecordFlush(directory);
        });

        Assert.True(placed);
        Assert.Equal("new", File.ReadAllText(Target));
        Assert.Equal(["new"], seen);
        Assert.Equal([_dir.Path], _flushes);
        Assert.Empty(Leftovers());
    }

    [Fact]
    public async Task Overwrite_async_replaces_the_content()
    {
        File.WriteAllText(Target, "old");

        bool placed = await DurableFile.WriteAsync(Target, Bytes("new"), overwrite: true, ownerOnly: true, RecordFlush, CancellationToken.None);

        Assert.True(placed);
        Assert.Equal("new", File.ReadAllText(Target));
        Assert.Equal([_dir.Path], _flushes);
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void Create_only_writes_a_file_that_is_not_there_yet()
    {
        bool placed = DurableFile.Write(Target, Bytes("first"), overwrite: false, ownerOnly: true, RecordFlush);

        Assert.True(placed);
        Assert.Equal("first", File.ReadAllText(Target));
        Assert.Equal([_dir.Path], _flushes);
        Assert.Empty(Leftovers());
    }

    [Fact]
    public async Task Create_only_on_an_existing_file_reports_it_and_keeps_the_old_content()
    {
        File.WriteAllText(Target, "winner");

        bool placedSync = DurableFile.Write(Target, Bytes("loser"), overwrite: false, ownerOnly: true, RecordFlush);
        bool placedAsync = await DurableFile.WriteAsync(Target, Bytes("loser"), overwrite: false, ownerOnly: true, RecordFlush, CancellationToken.None);

        Assert.False(placedSync);
        Assert.False(placedAsync);
        Assert.Equal("winner", File.ReadAllText(Target));
        Assert.Empty(Leftovers());
        // The caller reads the winner's file next, so its name is flushed even though this call did not write it.
        Assert.Equal([_dir.Path, _dir.Path], _flushes);
    }

    [Fact]
    public async Task Create_only_against_concurrent_creators_lets_exactly_one_win()
    {
        // rename(2) after a look for the target (what File.Move(overwrite: false) does on Unix) lets two creators both
        // win, the later one replacing what the earlier one already uses; only one may.
        const int Writers = 4;
        for (int round = 0; round < 40; round++)
        {
            string path = _dir.File($"race-{round}");
            var placed = new bool[Writers];
            await Simultaneously.RunAsync(Writers, i =>
                placed[i] = DurableFile.Write(path, Bytes($"writer {i}"), overwrite: false, ownerOnly: true, _ => { }));

            int winner = Assert.Single(Enumerable.Range(0, Writers), i => placed[i]);
            Assert.Equal($"writer {winner}", File.ReadAllText(path));
        }
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }

    [Fact]
    public void Move_new_renames_into_a_free_name_and_flushes_the_directory()
    {
        string source = _dir.File("source");
        File.WriteAllText(source, "moved");

        Assert.True(DurableFile.MoveNew(source, Target, RecordFlush));

        Assert.Equal("moved", File.ReadAllText(Target));
        Assert.False(File.Exists(source));
        Assert.Equal([_dir.Path], _flushes);
    }

    [Fact]
    public void Move_new_onto_an_existing_file_leaves_both_as_they_were()
    {
        string source = _dir.File("source");
        File.WriteAllText(source, "mine");
        File.WriteAllText(Target, "theirs");

        Assert.False(DurableFile.MoveNew(source, Target, RecordFlush));

        Assert.Equal("theirs", File.ReadAllText(Target));
        Assert.Equal("mine", File.ReadAllText(source));
        Assert.Empty(_flushes);
    }

    [Fact]
    public void Create_only_over_a_directory_fails_instead_of_reporting_a_winner()
    {
        Directory.CreateDirectory(Target);

        Assert.Throws<IOException>(() => DurableFile.Write(Target, Bytes("new"), overwrite: false, ownerOnly: true, RecordFlush));

        Assert.True(Directory.Exists(Target));
        Assert.Empty(Leftovers());
        Assert.Empty(_flushes);
    }

    [Fact]
    public void A_rename_that_fails_leaves_no_temporary_file_and_the_target_as_it_was()
    {
        // A non-empty directory cannot be renamed over: the failure comes after the temporary file was written.
        Directory.CreateDirectory(Target);
        File.WriteAllText(Path.Combine(Target, "inside"), "old");

        Assert.ThrowsAny<IOException>(() => DurableFile.Write(Target, Bytes("new"), overwrite: true, ownerOnly: true, RecordFlush));

        Assert.Equal("old", File.ReadAllText(Path.Combine(Target, "inside")));
        Assert.Empty(Leftovers());
        Assert.Empty(_flushes);
    }

    [Fact]
    public async Task A_cancelled_write_leaves_no_temporary_file_and_the_old_content()
    {
        File.WriteAllText(Target, "old");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DurableFile.WriteAsync(Target, Bytes("new"), overwrite: true, ownerOnly: true, RecordFlush, cancelled.Token));

        Assert.Equal("old", File.ReadAllText(Target));
        Assert.Empty(Leftovers());
        Assert.Empty(_flushes);
    }

    [Fact]
    public void A_directory_flush_that_fails_fails_the_write_and_leaves_no_temporary_file()
    {
        File.WriteAllText(Target, "old");

        IOException error = Assert.Throws<IOException>(() => DurableFile.Write(Target, Bytes("new"), overwrite: true, ownerOnly: true,
            directory => throw new IOException($"cannot flush directory {directory} (errno 5)")));

        Assert.Contains("errno 5", error.Message);
        Assert.Empty(Leftovers());
        // The flush comes after the rename: the new file is in place, only not yet known to be durable.
        Assert.Equal("new", File.ReadAllText(Target));
    }

    [Fact]
    public void A_missing_directory_fails_the_write_and_flushes_nothing()
    {
        string path = Path.Combine(_dir.Path, "missing", "target");

        Assert.Throws<DirectoryNotFoundException>(() => DurableFile.Write(path, Bytes("new"), overwrite: true, ownerOnly: true, RecordFlush));

        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "missing")));
        Assert.Empty(_flushes);
    }

    [Fact]
    public async Task Owner_only_files_are_0600_whatever_the_file_they_replace()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        File.WriteAllText(Target, "old");
        File.SetUnixFileMode(Target, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        string created = _dir.File("created");

        DurableFile.Write(Target, Bytes("new"), overwrite: true, ownerOnly: true, RecordFlush);
        await DurableFile.WriteAsync(created, Bytes("new"), overwrite: false, ownerOnly: true, RecordFlush, CancellationToken.None);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(Target));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(created));
    }
}
