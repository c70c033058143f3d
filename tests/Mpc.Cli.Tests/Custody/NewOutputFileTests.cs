using System.Diagnostics;
using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Client.Custody;
using Mpc.Client.KeyStore;
using Mpc.Crypto.Curves;

namespace Mpc.Cli.Tests.Custody;

/// <summary>
/// The files `mpc backup`, `mpc device request` and `mpc device handover` create: each command checks at its start that
/// the name is free, and a file that appears there while it runs (another program, a second copy) is left byte for byte
/// as it is, with one error line, nothing of the new content on disk and nothing stored on the server. The file is made
/// to appear at a point the command must pass: while it reads its token from a named pipe (backup, handover), or
/// while it asks for the passphrase (request).
/// </summary>
[Collection("server")]
public sealed class NewOutputFileTests(ServerFixture server) : IDisposable
{
    private const string User = "new-output-file";
    private const string Passphrase = "new output file passphrase";
    private readonly TempDirectory _root = new("mpc-new-output-");
    private readonly Dictionary<string, string> _environment = new()
    {
        ["MPC_PASSPHRASE"] = Passphrase,
        ["MPC_BACKUP_PASSPHRASE"] = "backup passphrase for the test",
    };

    public void Dispose() => _root.Dispose();

    private string P(string name) => Path.Combine(_root.Path, name);

    [Fact]
    public async Task A_backup_file_that_appears_while_the_backup_is_made_is_left_as_it_is_and_the_server_keeps_no_backup()
    {
        string keyFile = P("phone.key"), backup = P("phone.backup");
        string keyId = await KeyFile(keyFile);
        using MpcSignerClient client = server.Client(User);
        int devicesBefore = (await client.ListDevicesAsync(keyId)).Count;
        byte[] other = RandomNumberGenerator.GetBytes(700);

        ProcessResult result = await MpcWithTokenFromPipe(() => File.WriteAllBytes(backup, other), "backup", "--key", keyFile, "--out", backup);

        RefusedInOneLine(result, $"{backup} appeared while this command ran and is left as it is; no backup was made (the server was not asked to keep its half)");
        Assert.Equal(other, File.ReadAllBytes(backup));
        Assert.Equal([backup], FilesNamedAfter("phone.backup"));
        Assert.Equal(devicesBefore, (await client.ListDevicesAsync(keyId)).Count);
    }

    [Fact]
    public async Task A_handover_file_that_appears_while_the_share_is_sealed_is_left_as_it_is_and_the_key_file_is_untouched()
    {
        string keyFile = P("old.key"), handover = P("laptop.handover");
        string keyId = await KeyFile(keyFile);
        byte[] keyFileBefore = File.ReadAllBytes(keyFile);
        using DeviceEnrolmentRequest request = DeviceEnrolmentRequest.Create(keyId);
        byte[] other = RandomNumberGenerator.GetBytes(700);

        // Without --no-wait: the command reads its token (to wait for the enrolment) after the start check.
        ProcessResult result = await MpcWithTokenFromPipe(() => File.WriteAllBytes(handover, other),
            "device", "handover", "--key", keyFile, "--request", request.Request.ToToken(), "--code", request.Request.ConfirmationCode, "--out", handover);

        RefusedInOneLine(result, $"{handover} appeared while this command ran and is left as it is; nothing was handed over");
        Assert.Equal(other, File.ReadAllBytes(handover));
        Assert.Equal([handover], FilesNamedAfter("laptop.handover"));
        Assert.Equal(keyFileBefore, File.ReadAllBytes(keyFile));
    }

    [Fact]
    public void A_pending_request_file_that_appears_while_the_passphrase_is_asked_is_left_as_it_is_and_no_request_is_made()
    {
        string pending = P("laptop.pending");
        // Another run's pending request, which may already have been carried to the existing device.
        byte[] other;
        using (DeviceEnrolmentRequest earlier = DeviceEnrolmentRequest.Create("key-new-output-file"))
        {
            other = earlier.ExportPending(Passphrase);
        }

        CliException refused = Assert.Throws<CliException>(() => DeviceEnrolmentCommands.NewRequest(pending, "key-new-output-file", () =>
        {
            File.WriteAllBytes(pending, other);
            return Passphrase;
        }));

        Assert.Equal(CliExit.LocalInput, refused.Exit);
        (CliExit exit, string line) = CliErrors.Describe(refused, server: null);
        Assert.Equal(CliExit.LocalInput, exit);
        Assert.Equal($"{pending} appeared while this command ran and is left as it is; no request was made: run the command again with another path", line);
        Assert.Equal(other, File.ReadAllBytes(pending));
        Assert.Equal([pending], FilesNamedAfter("laptop.pending"));
        using DeviceEnrolmentRequest kept = DeviceEnrolmentRequest.ImportPending(File.ReadAllBytes(pending), Passphrase);
    }

    /// <summary>A key file of a new key of <see cref="User"/>, sealed under <see cref="Passphrase"/>; returns its key id.</summary>
    private async Task<string> KeyFile(string path)
    {
        using MpcSignerClient client = server.Client(User);
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        ClientKeyFile.Save(path, key.Share, User, KeyFileProtection.Passphrase(Passphrase));
        return key.KeyId;
    }

    /// <summary>Every file in the directory whose name holds <paramref name="name"/>: a temporary file left behind would be one.</summary>
    private string[] FilesNamedAfter(string name) => Directory.GetFiles(_root.Path, $"*{name}*");

    /// <summary>A failure of kind LocalInput (6) whose stderr ends with exactly one error line, and it is <paramref name="expected"/>.</summary>
    private static void RefusedInOneLine(ProcessResult result, string expected)
    {
        Assert.True(result.ExitCode == 6, $"exit {result.ExitCode}: {result.Stderr}");
        string[] lines = result.Stderr.Trim().Split('\n');
        Assert.Equal($"error: {expected}: run the command again with another path", Assert.Single(lines, l => l.StartsWith("error", StringComparison.Ordinal)));
        Assert.StartsWith("error: ", lines[^1], StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs `mpc` with its token file a named pipe: the command blocks reading it (after its start check, before its
    /// final write) until <paramref name="meanwhile"/> has run and the token is written.
    /// </summary>
    private async Task<ProcessResult> MpcWithTokenFromPipe(Action meanwhile, params string[] args)
    {
        string pipe = P($"token-{Guid.NewGuid():N}");
        ProcessResult made = ProcessRunner.Run("mkfifo", [pipe]);
        Assert.True(made.ExitCode == 0, made.Stderr);
        using Process mpc = ProcessRunner.StartMpc(_environment, [.. args, "--server", server.Address.ToString(), "--token-file", pipe]);
        Task<string> stdout = mpc.StandardOutput.ReadToEndAsync(), stderr = mpc.StandardError.ReadToEndAsync();
        Task writing = Task.Run(() =>
        {
            // Opening the write end returns once mpc opens the read end.
            using var writer = new FileStream(pipe, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            meanwhile();
            writer.Write(System.Text.Encoding.ASCII.GetBytes(server.Token(User) + "\n"));
        });
        Task exited = mpc.WaitForExitAsync();
        if (await Task.WhenAny(writing, exited) != writing)
        {
            // mpc ended without reading its token: open the read end so the writer's open returns, then report.
            using (new FileStream(pipe, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                await writing;
            }
            Assert.Fail($"mpc ended before it read its token: {await stderr}");
        }
        await writing;
        if (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromMinutes(3))) != exited)
        {
            // A hang guard, as ProcessRunner's (a handover that wrote its file would wait for an enrolment).
            mpc.Kill(entireProcessTree: true);
            Assert.Fail($"mpc did not end: {await stderr}");
        }
        return new ProcessResult(mpc.ExitCode, await stdout, await stderr);
    }
}
