using System.CommandLine;
using Mpc.Cli;

TerminalSafeWriter.Install();
var root = new RootCommand("mpc: two-party (split-key) ECDSA signing. The key is never whole anywhere.")
{
    DemoCommand.Create(),
    KeyCommands.KeyGen(),
    KeyCommands.PublicKey(),
    KeyCommands.ListKeys(),
    KeyCommands.Sign(),
    KeyCommands.Verify(),
    DocumentCommands.Cert(),
    DocumentCommands.Timestamp(),
    TransferCommands.Import(),
    CustodyCommands.Refresh(),
    TransferCommands.Backup(),
    TransferCommands.Restore(),
    TransferCommands.Passphrase(),
    CustodyCommands.Device(),
    CustodyCommands.Admin(),
    AuditCommand.Create(),
};
CommonOptions.AddSafetyOptions(root);
ParseResult parsed = root.Parse(args);
if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction)
{
    // One line and the usage exit code, instead of the errors followed by the whole help text.
    return CliErrors.ReportParseErrors(parsed);
}
if (parsed.Errors.Count == 0 && CommonOptions.RefuseBeforeRunning(parsed) is { } refusal)
{
    Console.Error.WriteLine($"error: {refusal}");
    return (int)CliExit.Usage;
}
return await parsed.InvokeAsync();
