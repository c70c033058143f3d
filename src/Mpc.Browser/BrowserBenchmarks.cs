using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices.JavaScript;
using System.Runtime.Versioning;
using Mpc.Crypto.BigNum;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;

namespace Mpc.Browser;

/// <summary>Timings taken inside the browser, for docs/benchmarks.md ("Browser"); run by the browser tests.</summary>
[SupportedOSPlatform("browser")]
public static partial class BrowserBenchmarks
{
    /// <summary>
    /// The median time in milliseconds of <paramref name="runs"/> modular exponentiations with a
    /// <paramref name="modulusBits"/>-bit odd modulus and an <paramref name="exponentBits"/>-bit exponent, through
    /// <see cref="JsBigIntBackend"/> (ModPowSecret with the exponent's length as its bound, as the c3 prover calls it)
    /// and through BouncyCastle in WebAssembly, on the same random operands; as JSON
    /// <c>{"jsBigIntMs":..,"bouncyCastleMs":..,"agree":true}</c>. "agree" says both gave the same results, and so did
    /// the JS backend's ModPow (padded to the modulus' length; not timed).
    /// </summary>
    [JSExport]
    public static string ModPow(int modulusBits, int exponentBits, int runs)
    {
        var random = new SecureRandom();
        IBigNumBackend js = new JsBigIntBackend();
        IBigNumBackend managed = new ManagedBigNumBackend();
        var jsTimes = new List<double>();
        var managedTimes = new List<double>();
        bool agree = true;
        for (int i = 0; i < runs; i++)
        {
            BigInteger modulus = new BigInteger(modulusBits, random).SetBit(modulusBits - 1).SetBit(0);
            BigInteger value = new BigInteger(modulusBits, random).Mod(modulus);
            BigInteger exponent = new BigInteger(exponentBits, random).SetBit(exponentBits - 1);
            long start = Stopwatch.GetTimestamp();
            BigInteger viaJs = js.ModPowSecret(value, exponent, modulus, exponentBits);
            jsTimes.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            agree &= js.ModPow(value, exponent, modulus).Equals(viaJs);
            start = Stopwatch.GetTimestamp();
            BigInteger viaManaged = managed.ModPow(value, exponent, modulus);
            managedTimes.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            agree &= viaJs.Equals(viaManaged);
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"{{\"jsBigIntMs\":{Median(jsTimes):F2},\"bouncyCastleMs\":{Median(managedTimes):F2},\"agree\":{(agree ? "true" : "false")}}}");
    }

    /// <summary>
    /// The median time in milliseconds of one elliptic-curve scalar multiplication (an arbitrary point, a random
    /// scalar) on <paramref name="curve"/>, BouncyCastle interpreted in WebAssembly: a signature costs the client
    /// about eight of them (its DLog proof, checking the server's, R, and the final verification).
    /// </summary>
    [JSExport]
    public static double ScalarMultiply(string curve, int runs)
    {
        Mpc.Crypto.Curves.EcCurve ec = Mpc.Crypto.Curves.EcCurve.Get(Mpc.Crypto.Curves.EcCurve.Parse(curve));
        var random = new SecureRandom();
        Org.BouncyCastle.Math.EC.ECPoint point = ec.MultiplyBase(new BigInteger(ec.Order.BitLength - 1, random).Add(BigInteger.One));
        var times = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            BigInteger k = new BigInteger(ec.Order.BitLength - 1, random).Add(BigInteger.One);
            long start = Stopwatch.GetTimestamp();
            point = ec.MultiplySecret(point, k);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return Median(times);
    }

    private static double Median(List<double> times)
    {
        times.Sort();
        return times.Count % 2 == 1 ? times[times.Count / 2] : (times[(times.Count / 2) - 1] + times[times.Count / 2]) / 2;
    }
}
