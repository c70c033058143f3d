using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.Curves;

namespace Mpc.Cli.Tests.Documents;

/// <summary>`mpc verify` and <see cref="MpcECDsa"/> accept a signature only in DER: BER forms of a valid one are refused.</summary>
[Collection("server")]
public sealed class StrictDerTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _root = new("mpc-der-");

    /// <summary>BER and malformed forms of a DER signature that are the same (r, s) to a lenient parser.</summary>
    private static IEnumerable<(string Name, byte[] Encoding)> Variants(byte[] der)
    {
        byte[] body = der[2..];
        yield return ("long-form length", [0x30, 0x81, der[1], .. body]);
        yield return ("leading-zero length", [0x30, 0x82, 0x00, der[1], .. body]);
        yield return ("indefinite length", [0x30, 0x80, .. body, 0x00, 0x00]);
        yield return ("trailing bytes", [.. der, 0x00]);
        int rLength = body[1];
        byte[] r = body[2..(2 + rLength)], rest = body[(2 + rLength)..];
        byte[] rPadded = [0x02, (byte)(rLength + 1), 0x00, .. r];
        yield return ("extra leading zero in r", [0x30, (byte)(rPadded.Length + rest.Length), .. rPadded, .. rest]);
    }

    [Fact]
    public void Mpc_verify_refuses_BER_variants_with_one_line_and_accepts_the_DER()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string publicKey = _root.File("pub.pem"), document = _root.File("doc.txt"), signature = _root.File("sig.der");
        File.WriteAllText(publicKey, key.ExportSubjectPublicKeyInfoPem());
        File.WriteAllText(document, "strict DER only\n");
        byte[] der = key.SignData(File.ReadAllBytes(document), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        File.WriteAllBytes(signature, der);
        ProcessResult accepted = ProcessRunner.Mpc(null, "verify", "--pub", publicKey, "--in", document, "--sig", signature);
        Assert.Equal((0, "Verified OK"), (accepted.ExitCode, accepted.Stdout.Trim()));

        foreach ((string name, byte[] encoding) in Variants(der))
        {
            // The platform's lenient path would take some of these; ours must not.
            File.WriteAllBytes(signature, encoding);
            ProcessResult refused = ProcessRunner.Mpc(null, "verify", "--pub", publicKey, "--in", document, "--sig", signature);
            Assert.True(refused.ExitCode != 0, $"{name}: accepted");
            Assert.DoesNotContain("Verified OK", refused.Stdout, StringComparison.Ordinal);
            Assert.Contains("not a DER ECDSA signature", refused.ErrorLine, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', refused.ErrorLine);
        }
    }

    [Fact]
    public async Task MpcECDsa_verifies_DER_and_refuses_its_BER_variants()
    {
        using MpcSignerClient client = server.Client("strict-der");
        using MpcKey key = await client.CreateKeyAsync(CurveKind.P256);
        using MpcECDsa ecdsa = client.CreateECDsa(key);
        byte[] data = "strict DER only"u8.ToArray();
        byte[] der = ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        Assert.True(ecdsa.VerifyData(data, der, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        foreach ((string name, byte[] encoding) in Variants(der))
        {
            Assert.False(ecdsa.VerifyData(data, encoding, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence), name);
        }
        // Low-s through the ECDsa adapter too (the engine's default).
        (Org.BouncyCastle.Math.BigInteger _, Org.BouncyCastle.Math.BigInteger s) = EcdsaDer.Decode(der, EcCurve.Get(CurveKind.P256));
        Assert.True(s.CompareTo(EcCurve.Get(CurveKind.P256).HalfOrder) <= 0);
    }

    public void Dispose() => _root.Dispose();
}
