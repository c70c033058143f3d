namespace Mpc.Testing;

/// <summary>A clock the test moves by hand (session expiry, handover lifetimes).</summary>
public sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}
