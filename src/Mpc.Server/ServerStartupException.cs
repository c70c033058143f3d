namespace Mpc.Server;

/// <summary>Why the server refused to start.</summary>
public enum ServerStartupReason
{
    /// <summary>A setting is missing, unknown or out of range: the operator's configuration must change.</summary>
    Setting,

    /// <summary>Something the server needs for itself is taken: its port, or its data directory (another server runs).</summary>
    InUse,
}

/// <summary>
/// The server refuses to start (a bad setting, a port in use, a data directory another server holds). Each line of
/// the message is one problem an operator can act on; no stack trace is needed to understand it.
/// An <see cref="InvalidOperationException"/>, like the configuration errors the host raised before this type.
/// </summary>
public sealed class ServerStartupException(string message, ServerStartupReason reason = ServerStartupReason.Setting)
    : InvalidOperationException(message)
{
    public ServerStartupReason Reason { get; } = reason;

    /// <summary>The problems, one a line.</summary>
    public IReadOnlyList<string> Problems => Message.Split('\n');
}
