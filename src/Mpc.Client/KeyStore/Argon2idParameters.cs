using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;

namespace Mpc.Client.KeyStore;

/// <summary>
/// Argon2id cost parameters for a client key file (RFC 9106). The client pins a minimum: a file whose
/// parameters are weaker than <see cref="Minimum"/> is refused rather than decrypted (no downgrade).
/// Properties have no setters, so a <c>with</c> expression cannot lower a validated instance.
/// </summary>
public sealed record Argon2idParameters
{
    /// <summary>
    /// Upper bounds: a key file, backup or pending enrolment is untrusted input, and a planted one must not make the
    /// client allocate gigabytes or spin for minutes before the passphrase is even checked. 1 GiB and t = 16 are
    /// well above RFC 9106's first recommended option (2 GiB would be t=1; we stay within 1 GiB for mobile clients).
    /// </summary>
    internal const int MaxIterations = 16;
    internal const int MaxMemoryKiB = 1024 * 1024;
    internal const int MaxParallelism = 16;

    /// <summary>The limits, for one-line refusals.</summary>
    internal static string LimitsText => $"at most t={MaxIterations}, m={MaxMemoryKiB / 1024} MiB, p={MaxParallelism}";
    internal const int MaxSaltLength = 64;

    /// <summary>RFC 9106 §4, second recommended option: t=3, m=64 MiB, p=4, 128-bit salt.</summary>
    public static Argon2idParameters Recommended { get; } = new(3, 64 * 1024, 4, 16);

    /// <summary>The weakest parameters this client accepts from a key file or for saving one.</summary>
    public static Argon2idParameters Minimum { get; } = Recommended;

    private Argon2idParameters(int iterations, int memoryKiB, int parallelism, int saltLength)
    {
        Iterations = iterations;
        MemoryKiB = memoryKiB;
        Parallelism = parallelism;
        SaltLength = saltLength;
    }

    /// <summary>Passes (t).</summary>
    public int Iterations { get; }

    /// <summary>Memory in KiB (m).</summary>
    public int MemoryKiB { get; }

    /// <summary>Lanes (p).</summary>
    public int Parallelism { get; }

    /// <summary>Salt length in bytes.</summary>
    public int SaltLength { get; }

    /// <summary>Parameters at least as strong as <see cref="Minimum"/> in every component.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A component is below the minimum or above the client's limits.</exception>
    public static Argon2idParameters Create(int iterations, int memoryKiB, int parallelism, int saltLength)
    {
        Argon2idParameters parameters = Unchecked(iterations, memoryKiB, parallelism, saltLength);
        if (!parameters.IsAtLeast(Minimum))
        {
            throw new ArgumentOutOfRangeException(nameof(iterations),
                "Argon2id parameters must be at least as strong as Argon2idParameters.Minimum.");
        }
        return parameters;
    }

    /// <summary>
    /// Any structurally valid parameters, including ones below <see cref="Minimum"/>: for key files being
    /// inspected (the loader then compares against its minimum) and for tests' cheap settings.
    /// </summary>
    internal static Argon2idParameters Unchecked(int iterations, int memoryKiB, int parallelism, int saltLength)
    {
        if (!IsWithinLimits(iterations, memoryKiB, parallelism, saltLength))
        {
            throw new ArgumentOutOfRangeException(nameof(iterations), "Argon2id parameters are outside the supported range.");
        }
        return new Argon2idParameters(iterations, memoryKiB, parallelism, saltLength);
    }

    /// <summary>Structural limits: RFC 9106 requires m ≥ 8·p; we additionally require an 8-byte salt and cap every cost.</summary>
    internal static bool IsWithinLimits(long iterations, long memoryKiB, long parallelism, long saltLength) =>
        iterations is >= 1 and <= MaxIterations
        && parallelism is >= 1 and <= MaxParallelism
        && memoryKiB >= 8 * parallelism && memoryKiB <= MaxMemoryKiB
        && saltLength is >= 8 and <= MaxSaltLength;

    /// <summary>True when no component is weaker than <paramref name="floor"/>.</summary>
    internal bool IsAtLeast(Argon2idParameters floor) =>
        Iterations >= floor.Iterations
        && MemoryKiB >= floor.MemoryKiB
        && Parallelism >= floor.Parallelism
        && SaltLength >= floor.SaltLength;

    /// <summary>
    /// Derives <paramref name="output"/>.Length bytes from the passphrase bytes and salt: through libargon2 where the
    /// system has it (<see cref="NativeArgon2id"/>, about six times faster here), else BouncyCastle. Same bytes either way.
    /// </summary>
    internal void Derive(byte[] passphrase, byte[] salt, byte[] output)
    {
        RequireSaltLength(salt);
        if (!NativeArgon2id.TryDerive(Iterations, MemoryKiB, Parallelism, passphrase, salt, output))
        {
            DeriveManaged(passphrase, salt, output);
        }
    }

    private void RequireSaltLength(byte[] salt)
    {
        if (salt.Length != SaltLength)
        {
            throw new ArgumentException("Salt length does not match the parameters.", nameof(salt));
        }
    }

    /// <summary>BouncyCastle's Argon2id: the fallback, and the reference the native path is tested against.</summary>
    internal void DeriveManaged(byte[] passphrase, byte[] salt, byte[] output)
    {
        RequireSaltLength(salt);
        Argon2Parameters parameters = new Argon2Parameters.Builder(Argon2Parameters.Argon2id)
            .WithVersion(Argon2Parameters.Version13)
            .WithIterations(Iterations)
            .WithMemoryAsKB(MemoryKiB)
            .WithParallelism(Parallelism)
            .WithSalt(salt)
            .Build();
        try
        {
            var generator = new Argon2BytesGenerator();
            generator.Init(parameters);
            generator.GenerateBytes(passphrase, output);
        }
        finally
        {
            parameters.Clear();
        }
    }

    public override string ToString() => $"Argon2id(t={Iterations}, m={MemoryKiB} KiB, p={Parallelism}, salt={SaltLength} B)";
}
