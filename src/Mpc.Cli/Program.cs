using System.CommandLine;
using Mpc.Cli;

var root = new RootCommand("mpc: two-party (split-key) ECDSA signing. The key is never whole anywhere.")
{
    DemoCommand.Create(),
    ServerCommands.Server(),
    ServerCommands.Token(),
    KeyCommands.KeyGen(),
    KeyCommands.PublicKey(),
    KeyCommands.Sign(),
    KeyCommands.Verify(),
    DocumentCommands.Cert(),
    TransferCommands.Import(),
    CustodyCommands.Refresh(),
    TransferCommands.Backup(),
    TransferCommands.Restore(),
    TransferCommands.Passphrase(),
    CustodyCommands.Device(),
    CustodyCommands.Admin(),
    AuditCommand.Create(),
    LoadCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
