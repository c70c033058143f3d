using System.Diagnostics;
using Mpc.Client.KeyStore;

namespace Mpc.Client.Tests.KeyStore;

/// <summary>
/// The key file's lock (<see cref="KeyFileLock"/>): a second holder is refused at once, whether it is another process
/// or another handle in this one; <see cref="PendingKeyFile.UpdateAsync"/> takes it before it reads or writes anything;
/// and a holder that is killed leaves nothing that blocks the next one.
/// </summary>
public sealed class KeyFileLockTests : IDisposable
{
    private readonly TempDirectory _dir = new("mpc-lock-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_second_holder_is_refused_at_once_naming_the_key_file_and_gets_the_lock_once_the_first_releases_it()
    {
        string keyFile = _dir.File("alice.key");
        MpcSignerException refused;
        using (KeyFileLock.Acquire(keyFile))
        {
            // Another handle in the same process: flock locks belong to the open file, so this is refused as another
            // process would be.
            refused = Assert.Throws<MpcSignerException>(() => KeyFileLock.Acquire(keyFile));
        }
        Assert.Equal(MpcErrorReason.KeyFileInUse, refused.Reason);
        Assert.Contains($"another mpc command (or program) is using {keyFile}", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
        using KeyFileLock again = KeyFileLock.Acquire(keyFile);
        Assert.Equal(keyFile, again.KeyFile);
    }

    [Fact]
    public async Task UpdateAsync_on_a_key_file_another_holder_locked_is_refused_and_leaves_its_files_as_they_were()
    {
        string keyFile = _dir.File("bob.key");
        string pending = PendingKeyFile.PendingPathOf(keyFile);
        await File.WriteAllTextAsync(keyFile, "the key file another command is refreshing");
        await File.WriteAllTextAsync(pending, "its pending share, written before its confirmation");
        bool refreshed = false;
        // Never contacted: the refusal comes before anything is read or sent.
        using var client = new MpcSignerClient(new Uri("http://127.0.0.1:9"), "token");

        using (KeyFileLock.Acquire(keyFile))
        {
            MpcSignerException refused = await Assert.ThrowsAsync<MpcSignerException>(() => PendingKeyFile.UpdateAsync(client, keyFile, "bob",
                KeyFileProtection.Unprotected(), _ =>
                {
                    refreshed = true;
                    throw new InvalidOperationException("the refresh must not start");
                }));
            Assert.Equal(MpcErrorReason.KeyFileInUse, refused.Reason);
        }

        Assert.False(refreshed);
        Assert.Equal("the key file another command is refreshing", await File.ReadAllTextAsync(keyFile));
        Assert.Equal("its pending share, written before its confirmation", await File.ReadAllTextAsync(pending));
        Assert.Equal([keyFile, KeyFileLock.LockPathOf(keyFile), pending], Directory.GetFiles(_dir.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_holder_process_that_is_killed_releases_the_lock()
    {
        // flock(1) takes the same kind of lock on the same file, from another process, and holds it until killed: the
        // state a killed mpc command leaves (the CLI tests kill a real one). One process (--no-fork, then exec), so
        // once it is reaped nothing else holds the lock file open.
        string keyFile = _dir.File("carol.key");
        var start = new ProcessStartInfo("flock", ["--exclusive", "--no-fork", KeyFileLock.LockPathOf(keyFile), "sh", "-c", "echo locked; exec sleep 600"])
        {
            RedirectStandardOutput = true,
        };
        using Process holder = Process.Start(start)!;
        try
        {
            Assert.Equal("locked", holder.StandardOutput.ReadLine());
            Assert.Equal(MpcErrorReason.KeyFileInUse, Assert.Throws<MpcSignerException>(() => KeyFileLock.Acquire(keyFile)).Reason);
        }
        finally
        {
            holder.Kill();
            holder.WaitForExit();
        }

        using KeyFileLock taken = KeyFileLock.Acquire(keyFile);
        Assert.True(File.Exists(KeyFileLock.LockPathOf(keyFile)));
    }
}
