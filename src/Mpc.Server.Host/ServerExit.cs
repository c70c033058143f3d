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

    /// <summary>
    /// A service the silo needs did not answer during start-up: Redis, or the other active silos of the cluster
    /// (sysexits' EX_UNAVAILABLE). Starting again later may work; an orchestrator should restart it.
    /// </summary>
    Unavailable = 69,

    /// <summary>
    /// The cluster declared this silo dead (or its membership service failed) while it ran: it stopped at once, so that
    /// no grain runs on it beside another activation (<see cref="SiloFatalErrorHandler"/>). An orchestrator should restart it.
    /// </summary>
    DeclaredDead = SiloFatalErrorHandler.ExitCode,

    /// <summary>Interrupted before it was running, as shells report SIGINT.</summary>
    Cancelled = 130,
}
