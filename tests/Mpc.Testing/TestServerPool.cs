namespace Mpc.Testing;

/// <summary>
/// The Paillier key pool of the servers the tests start: 4 keys instead of the default 16. Dozens of servers start
/// during the suite on 2 cores, each pooled key costs a prime search at start-up (about 0.3 s of CPU), and those
/// searches slow the suite's timed steps (a session lifetime of a second); no test takes more than a few keys in a row.
/// </summary>
public static class TestServerPool
{
    public const int Size = 4;

    /// <summary>The setting for a spawned `mpc-server`.</summary>
    public const string Variable = "Mpc__KeyGen__PrimePoolSize";
}
