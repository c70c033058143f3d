using Mpc.Crypto.Curves;

namespace Mpc.LoadTest;

/// <summary>What `mpc-load` runs.</summary>
internal sealed class LoadOptions
{
    public IReadOnlyList<Uri> Servers { get; init; } = [];

    public string? Token { get; init; }

    public string? DataDirectory { get; init; }

    public int Users { get; init; } = 16;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    public CurveKind Curve { get; init; } = CurveKind.P256;

    /// <summary>Start mpc-server as a child process and load it (its CPU time is then measured).</summary>
    public bool Embedded { get; init; }

    /// <summary>Randomness values each client prepares before measurement; 0 leaves the SDK default.</summary>
    public int Precompute { get; init; }

    /// <summary>Progress-line interval.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="LoadSetupException"/> for options that cannot run.</summary>
    public void Validate()
    {
        if (Users is < 1 or > 10_000)
        {
            throw new LoadSetupException("--users must be between 1 and 10000");
        }
        if (Duration <= TimeSpan.Zero)
        {
            throw new LoadSetupException("--duration must be positive");
        }
        if (Warmup < TimeSpan.Zero)
        {
            throw new LoadSetupException("--warmup must not be negative");
        }
        if (Embedded)
        {
            if (Servers.Count > 0 || Token is not null || DataDirectory is not null)
            {
                throw new LoadSetupException("--embedded starts its own server: leave out --server, --token-file and --data");
            }
            return;
        }
        if (Servers.Count == 0)
        {
            throw new LoadSetupException($"no server given: use --server URL (or ${LoadCommand.ServerVariable}), or --embedded");
        }
        if ((Token is null) == (DataDirectory is null))
        {
            throw new LoadSetupException("give either --token-file FILE (one user for all) or --data DIR (a development token per user)");
        }
    }
}
