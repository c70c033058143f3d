using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using NumericsInteger = System.Numerics.BigInteger;

namespace Mpc.Browser.Tests;

/// <summary>
/// wwwroot/mpc-bigint.js under node (the same V8 BigInt as Chromium), no browser needed: the exponentiation the browser
/// client runs with secret exponents (the c3 prover's C^α mod N², s^α, s^β mod N̂) does the same work for every
/// exponent of the padded length.
/// </summary>
public sealed class MpcBigIntModuleTests
{
    [Fact]
    public void The_window_loop_does_the_same_products_of_the_same_length_for_exponent_1_as_for_2_to_the_255_and_the_powers_are_right()
    {
        NumericsInteger modulus = RandomOdd(2048);
        NumericsInteger value = RandomBelow(modulus);
        NumericsInteger[] exponents = [NumericsInteger.One, NumericsInteger.Pow(2, 255), NumericsInteger.Zero, RandomBelow(NumericsInteger.Pow(2, 256)), modulus - 1];

        JsonElement[] report = RunNode(modulus, value, exponents);

        // 2048 bits padded to whole 5-bit windows: 410 windows, five squarings and a multiplication after each but the first.
        const int expectedProducts = ((2048 + 4) / 5 - 1) * 6;
        for (int i = 0; i < exponents.Length; i++)
        {
            Assert.Equal(NumericsInteger.ModPow(value, exponents[i], modulus), Parse(report[i].GetProperty("result").GetString()!));
            Assert.Equal(expectedProducts, report[i].GetProperty("products").GetInt32());
            // Every operand is a residue lifted by modulus·2^64: never the 1 of a zero window or of an accumulator
            // that has seen only zero windows (V8's one-digit shortcuts).
            Assert.Equal(2048 + 64, report[i].GetProperty("shortestOperandBits").GetInt32());
            Assert.Equal(2048 + 64, report[i].GetProperty("longestOperandBits").GetInt32());
        }
    }

    private static JsonElement[] RunNode(NumericsInteger modulus, NumericsInteger value, NumericsInteger[] exponents)
    {
        string root = Repository.Root;
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in (string[])[
            Path.Combine(root, "tests", "Mpc.Browser.Tests", "mpc-bigint-windows.mjs"),
            Path.Combine(root, "src", "Mpc.Browser", "wwwroot", "mpc-bigint.js"),
            Hex(modulus), Hex(value), .. exponents.Select(Hex)])
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("node mpc-bigint-windows.mjs did not finish");
        }
        Assert.True(process.ExitCode == 0, $"node failed (exit {process.ExitCode}): {errors.Result.Trim()}");
        using JsonDocument document = JsonDocument.Parse(output.Result);
        return [.. document.RootElement.EnumerateArray().Select(element => element.Clone())];
    }

    private static NumericsInteger RandomOdd(int bits)
    {
        byte[] bytes = RandomNumberGenerator.GetBytes(bits / 8);
        bytes[0] |= 0x80;
        bytes[^1] |= 1;
        return new NumericsInteger(bytes, isUnsigned: true, isBigEndian: true);
    }

    private static NumericsInteger RandomBelow(NumericsInteger bound)
    {
        byte[] bytes = RandomNumberGenerator.GetBytes(bound.GetByteCount(isUnsigned: true) + 16);
        return new NumericsInteger(bytes, isUnsigned: true, isBigEndian: true) % bound;
    }

    private static string Hex(NumericsInteger value) => value.IsZero ? "00" : Convert.ToHexStringLower(value.ToByteArray(isUnsigned: true, isBigEndian: true));

    private static NumericsInteger Parse(string hex) =>
        hex.Length == 0 ? NumericsInteger.Zero : NumericsInteger.Parse("0" + hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
