using System.Diagnostics;
using System.Runtime.InteropServices;
using Mpc.Crypto.Curves;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Protocol.Tests;

/// <summary>
/// Verifiers that refuse high-s by default and share no code with the engine: libsecp256k1 (Debian's
/// libsecp256k1-1, through P/Invoke) and @noble/curves 2.x (node, tests/Mpc.Protocol.Tests/noble).
/// </summary>
public static partial class LowSVerifiers
{
    private const string Secp256k1Library = "libsecp256k1.so.1";
    private const uint ContextVerify = (1 << 0) | (1 << 8);
    private const uint Compressed = (1 << 1) | (1 << 8);

    /// <summary>
    /// secp256k1_ecdsa_verify on the DER signature as it is (no normalisation: libsecp256k1 refuses s &gt; n/2),
    /// and secp256k1_ecdsa_recover from (r, s, recovery id), which must give back <paramref name="publicKey"/>.
    /// </summary>
    public static (bool Verified, bool Recovered) LibSecp256k1(ECPoint publicKey, byte[] digest, EcdsaSignature signature)
    {
        IntPtr context = secp256k1_context_create(ContextVerify);
        try
        {
            byte[] encodedKey = publicKey.GetEncoded(true);
            byte[] parsedKey = new byte[64], parsedSignature = new byte[64];
            if (secp256k1_ec_pubkey_parse(context, parsedKey, encodedKey, (nuint)encodedKey.Length) != 1)
            {
                throw new InvalidOperationException("libsecp256k1 refused the public key");
            }
            byte[] der = signature.ToDer();
            bool verified = secp256k1_ecdsa_signature_parse_der(context, parsedSignature, der, (nuint)der.Length) == 1
                && secp256k1_ecdsa_verify(context, parsedSignature, digest, parsedKey) == 1;

            byte[] recoverable = new byte[65], recoveredKey = new byte[64], serialized = new byte[33];
            nuint length = 33;
            bool recovered = secp256k1_ecdsa_recoverable_signature_parse_compact(context, recoverable, signature.ToP1363(32), signature.RecoveryId) == 1
                && secp256k1_ecdsa_recover(context, recoveredKey, recoverable, digest) == 1
                && secp256k1_ec_pubkey_serialize(context, serialized, ref length, recoveredKey, Compressed) == 1
                && serialized.AsSpan().SequenceEqual(encodedKey);
            return (verified, recovered);
        }
        finally
        {
            secp256k1_context_destroy(context);
        }
    }

    /// <summary>@noble/curves' <c>verify</c> with its defaults (lowS on every curve) over many signatures in one node run.</summary>
    public static bool[] Noble(IReadOnlyList<(CurveKind Curve, ECPoint PublicKey, byte[] Digest, byte[] DerSignature)> cases)
    {
        string directory = NobleDirectory();
        var start = new ProcessStartInfo("node", [Path.Combine(directory, "verify.mjs")])
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        foreach ((CurveKind curve, ECPoint publicKey, byte[] digest, byte[] der) in cases)
        {
            process.StandardInput.WriteLine(
                $"{EcCurve.NameOf(curve)} {Convert.ToHexStringLower(publicKey.GetEncoded(true))} {Convert.ToHexStringLower(digest)} {Convert.ToHexStringLower(der)}");
        }
        process.StandardInput.Close();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("node verify.mjs did not finish");
        }
        string[] lines = output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (process.ExitCode != 0 || lines.Length != cases.Count)
        {
            throw new InvalidOperationException($"node verify.mjs failed (exit {process.ExitCode}): {errors.Result.Trim()}");
        }
        return [.. lines.Select(line => line == "ok")];
    }

    private static string NobleDirectory()
    {
        string noble = Repository.PathOf("tests", "Mpc.Protocol.Tests", "noble");
        return Directory.Exists(Path.Combine(noble, "node_modules", "@noble", "curves"))
            ? noble
            : throw new InvalidOperationException($"@noble/curves is not installed: run `npm ci --prefix {noble}` (.ci/run does).");
    }

    [LibraryImport(Secp256k1Library)]
    private static partial IntPtr secp256k1_context_create(uint flags);

    [LibraryImport(Secp256k1Library)]
    private static partial void secp256k1_context_destroy(IntPtr context);

    [LibraryImport(Secp256k1Library)]
    private static partial int secp256k1_ec_pubkey_parse(IntPtr context, byte[] publicKey, byte[] input, nuint inputLength);

    [LibraryImport(Secp256k1Library)]
    private static partial int secp256k1_ec_pubkey_serialize(IntPtr context, byte[] output, ref nuint outputLength, byte[] publicKey, uint flags);

    [LibraryImport(Secp256k1Library)]
    private static partial int secp256k1_ecdsa_signature_parse_der(IntPtr context, byte[] signature, byte[] input, nuint inputLength);

    [LibraryImport(Secp256k1Library)]
    private static partial int secp256k1_ecdsa_verify(IntPtr context, byte[] signature, byte[] digest32, byte[] publicKey);

    [LibraryImport(Secp256k1Library)]
    private static partial int secp256k1_ecdsa_recoverable_signature_parse_compact(IntPtr context, byte[] signature, byte[] input64, int recoveryId);

    [LibraryImport(Secp256k1Library)]
    private static partial int secp256k1_ecdsa_recover(IntPtr context, byte[] publicKey, byte[] signature, byte[] digest32);
}
