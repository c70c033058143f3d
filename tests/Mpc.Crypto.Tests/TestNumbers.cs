using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;

namespace Mpc.Crypto.Tests;

/// <summary>Deterministic test numbers (seeded, so a failure reproduces) and the two backends by kind.</summary>
internal static class TestNumbers
{
    private static readonly Lazy<IBigNumBackend> OpenSsl = new(() => BigNumBackends.Create(BigNumBackendKind.OpenSsl));
    private static readonly Lazy<IBigNumBackend> Managed = new(() => BigNumBackends.Create(BigNumBackendKind.Managed));

    /// <summary>The explicit backends; never <see cref="BigNumBackends.Default"/>, which the environment tests guard.</summary>
    public static IBigNumBackend Backend(BigNumBackendKind kind) => kind switch
    {
        BigNumBackendKind.OpenSsl => OpenSsl.Value,
        BigNumBackendKind.Managed => Managed.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>A value in [0, 2^bits).</summary>
    public static BigInteger Below(Random random, int bits)
    {
        byte[] bytes = new byte[(bits + 7) / 8];
        random.NextBytes(bytes);
        return new BigInteger(1, bytes).Mod(BigInteger.One.ShiftLeft(bits));
    }

    /// <summary>A value with exactly <paramref name="bits"/> bits.</summary>
    public static BigInteger Exactly(Random random, int bits) => Below(random, bits).SetBit(bits - 1);

    /// <summary>An odd value with exactly <paramref name="bits"/> bits.</summary>
    public static BigInteger OddModulus(Random random, int bits) => Exactly(random, bits).SetBit(0);

    /// <summary>A value in [0, modulus).</summary>
    public static BigInteger BelowModulus(Random random, BigInteger modulus) =>
        Below(random, modulus.BitLength + 64).Mod(modulus);
}
