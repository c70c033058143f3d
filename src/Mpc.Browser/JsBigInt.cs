using System.Runtime.InteropServices.JavaScript;
using System.Runtime.Versioning;

namespace Mpc.Browser;

/// <summary>
/// The JavaScript module wwwroot/mpc-bigint.js, registered by the page under <see cref="ModuleName"/>
/// (<c>setModuleImports</c>). Numbers cross as unsigned big-endian bytes: in as memory views (no copy), out as one
/// array. (Hexadecimal strings cost about as much as the exponentiation itself: BouncyCastle's radix conversion
/// runs interpreted.)
/// </summary>
[SupportedOSPlatform("browser")]
internal static partial class JsBigInt
{
    public const string ModuleName = "mpc-bigint";

    /// <summary>value^exponent mod modulus with JS BigInt (fixed-window exponentiation), all unsigned big-endian.</summary>
    [JSImport("modPowBytes", ModuleName)]
    [return: JSMarshalAs<JSType.Array<JSType.Number>>]
    public static partial byte[] ModPow(
        [JSMarshalAs<JSType.MemoryView>] Span<byte> value,
        [JSMarshalAs<JSType.MemoryView>] Span<byte> exponent,
        [JSMarshalAs<JSType.MemoryView>] Span<byte> modulus);

    /// <summary>A random prime of exactly <paramref name="bits"/> bits, ≡ 3 mod 4 when <paramref name="blum"/> (sieve, Fermat, 40 Miller–Rabin rounds in JS).</summary>
    [JSImport("generatePrimeBytes", ModuleName)]
    [return: JSMarshalAs<JSType.Array<JSType.Number>>]
    public static partial byte[] GeneratePrime(int bits, bool blum);

    /// <summary>A safe prime 2q + 1 of exactly <paramref name="bits"/> bits (q proven by Miller–Rabin, p by Pocklington).</summary>
    [JSImport("generateSafePrimeBytes", ModuleName)]
    [return: JSMarshalAs<JSType.Array<JSType.Number>>]
    public static partial byte[] GenerateSafePrime(int bits);

    /// <summary>Trial division then 40 Miller–Rabin rounds with random bases.</summary>
    [JSImport("isProbablePrimeBytes", ModuleName)]
    public static partial bool IsProbablePrime([JSMarshalAs<JSType.MemoryView>] Span<byte> candidate);
}
