using System.CommandLine;

namespace Mpc.Server.Host;

/// <summary>`mpc-server token`: a development bearer token signed with the key in the server's data directory.</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The server's data directory", DefaultValueFactory = _ => ServerCommand.DefaultDataDirectory };
        var user = new Option<string>("--user") { Description = "The user the token is for (its subject)", Required = true };
        var lifetime = new Option<TimeSpan>("--lifetime") { Description = "Validity, e.g. 12:00:00", DefaultValueFactory = _ => TimeSpan.FromHours(12) };
        var admin = new Option<bool>("--admin") { Description = "Add the operator scope (mpc.admin) for mpc admin commands" };
        var command = new Command("token", "Print a development bearer token for a user of the server whose data directory this is (embedded mode; production tokens come from an identity provider).")
        {
            data, user, lifetime, admin,
        };
        command.SetAction((parse, _) => StartupErrors.Run(() =>
        {
            string name = parse.GetValue(user)!;
            if (string.IsNullOrWhiteSpace(name) || name.Length > 128)
            {
                throw new UsageException("--user must be 1 to 128 characters");
            }
            using DevelopmentTokens tokens = DevelopmentTokens.Open(parse.GetValue(data)!, create: false);
            Console.WriteLine(tokens.Mint(name, parse.GetValue(lifetime), admin: parse.GetValue(admin)));
            return Task.FromResult((int)ServerExit.Ok);
        }));
        return command;
    }
}
