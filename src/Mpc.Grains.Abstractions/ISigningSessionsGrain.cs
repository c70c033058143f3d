namespace Mpc.Grains.Abstractions;

/// <summary>
/// Read-only view of a user's in-memory signing sessions (implemented by the user's key grain), for operators'
/// diagnostics and tests: how many commitments wait unopened and how many opened sessions are unfinished.
/// </summary>
[Alias("mpc.ISigningSessionsGrain")]
public interface ISigningSessionsGrain : IGrainWithStringKey
{
    [Alias("GetSigningSessionCounts")]
    Task<SigningSessionCounts> GetSigningSessionCounts(string keyId);
}

/// <param name="Unopened">Commitments handed out whose nonce round has not run (safe to hand out again).</param>
/// <param name="Opened">Sessions past their nonce round that have not finished (each expires within seconds).</param>
/// <param name="MostUnopenedOnOneDevice">The largest number of unopened commitments held for one device.</param>
[GenerateSerializer, Immutable, Alias("mpc.SigningSessionCounts")]
public sealed record SigningSessionCounts(
    [property: Id(0)] int Unopened,
    [property: Id(1)] int Opened,
    [property: Id(2)] int MostUnopenedOnOneDevice);
