using System.Diagnostics;
using System.Security.Cryptography;
using Mpc.Crypto.Curves;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Protocol.Tests;

/// <summary>Verifiers that share no code with the engine: .NET's ECDsa, BouncyCastle's ECDsaSigner, the openssl CLI.</summary>
public static class IndependentVerifiers
{
    public static bool Platform(CurveKind curve, ECPoint publicKey, byte[] digest, EcdsaSignature signature)
    {
        EcCurve c = EcCurve.Get(curve);
        ECPoint q = publicKey.Normalize();
        var parameters = new ECParameters
        {
            Curve = curve switch
            {
                CurveKind.P256 => ECCurve.NamedCurves.nistP256,
                CurveKind.P384 => ECCurve.NamedCurves.nistP384,
                _ => throw new ArgumentOutOfRangeException(nameof(curve)),
            },
            Q = new System.Security.Cryptography.ECPoint
            {
                X = q.AffineXCoord.GetEncoded(),
                Y = q.AffineYCoord.GetEncoded(),
            },
        };
        using var ecdsa = ECDsa.Create(parameters);
        return ecdsa.VerifyHash(digest, signature.ToP1363(c.ScalarLength));
    }

    public static bool BouncyCastle(CurveKind curve, ECPoint publicKey, byte[] digest, EcdsaSignature signature)
    {
        var signer = new ECDsaSigner();
        signer.Init(false, new ECPublicKeyParameters(publicKey, EcCurve.Get(curve).DomainParameters));
        return signer.VerifySignature(digest, signature.R, signature.S);
    }

    /// <summary>openssl dgst -sha256|-sha384 -verify pub.pem -signature sig.der doc.</summary>
    public static (bool Verified, string Output) OpenSsl(CurveKind curve, ECPoint publicKey, byte[] document, EcdsaSignature signature)
    {
        string dir = Directory.CreateTempSubdirectory("mpc-openssl-").FullName;
        try
        {
            string pem = Path.Combine(dir, "pub.pem"), doc = Path.Combine(dir, "doc.bin"), sig = Path.Combine(dir, "sig.der");
            File.WriteAllText(pem, PublicKeyEncoding.ToPem(EcCurve.Get(curve), publicKey));
            File.WriteAllBytes(doc, document);
            File.WriteAllBytes(sig, signature.ToDer());
            string digestName = curve == CurveKind.P384 ? "-sha384" : "-sha256";
            var start = new ProcessStartInfo("openssl", ["dgst", digestName, "-verify", pem, "-signature", sig, doc])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using Process process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode == 0 && output.Contains("Verified OK", StringComparison.Ordinal), output.Trim());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
