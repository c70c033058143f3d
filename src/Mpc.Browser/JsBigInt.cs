using System.Runtime.InteropServices.JavaScript;
using System.Runtime.Versioning;

namespace Mpc.Browser;

/// <summary>
/// The JavaScript module wwwroot/mpc-bigint.js, registered by the page under <see cref="ModuleName"/>
/// (<c>setModuleImports</c>). Numbers cross as lower-case hexadecimal without a prefix: one allocation per value
/// each way, a few microseconds against tens of milliseconds for a 4096-bit exponentiation.
/// </summary>
[SupportedOSPlatform("browser")]
internal static partial class JsBigInt
{
    public const string ModuleName = "mpc-bigint";

    /// <summary>value^exponent mod modulus with JS BigInt (fixed-window exponentiation).</summary>
    [JSImport("modPow", ModuleName)]
    public static partial string ModPow(string valueHex, string exponentHex, string modulusHex);
}
