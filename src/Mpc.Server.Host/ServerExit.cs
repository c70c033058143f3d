namespace Mpc.Server.Host;

/// <summary>How `mpc-server` ends. Stable: scripts and orchestrators branch on these (docs/operations.md lists them).</summary>
internal enum ServerExit
{
    /// <summary>Stopped on request (SIGTERM, Ctrl+C) after running, or a token printed.</summary>
    Ok = 0,

    /// <summary>An unexpected failure.</summary>
    Failed = 1,

    /// <summary>The command line or a setting is wrong: what was given must change.</summary>
    Usage = 2,

    /// <summary>Something local the server needs is unusable: its port or data directory is taken, the master key or a file is missing.</summary>
    LocalResource = 6,

    /// <summary>Interrupted before it was running, as shells report SIGINT.</summary>
    Cancelled = 130,
}
