using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Testing;

/// <summary>
/// Verifiers that share no code with the engine: .NET's ECDsa (P-256, P-384), BouncyCastle's ECDsaSigner (every curve),
/// the openssl CLI. The one set for every test layer (protocol tests pass a point, service tests the SPKI bytes a key
/// summary carries).
/// </summary>
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

    /// <summary>A public key as SubjectPublicKeyInfo: .NET's ECDsa for P-256 and P-384, BouncyCastle for secp256k1 (.NET has no secp256k1 on Linux).</summary>
    public static bool FromSubjectPublicKeyInfo(CurveKind curve, byte[] subjectPublicKeyInfo, byte[] digest, EcdsaSignature signature)
    {
        if (curve == CurveKind.Secp256k1)
        {
            var key = (ECPublicKeyParameters)Org.BouncyCastle.Security.PublicKeyFactory.CreateKey(subjectPublicKeyInfo);
            var signer = new ECDsaSigner();
            signer.Init(false, key);
            return signer.VerifySignature(digest, signature.R, signature.S);
        }
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
        return ecdsa.VerifyHash(digest, signature.ToP1363(EcCurve.Get(curve).ScalarLength));
    }

    /// <summary>An SDK signature, converted here (the SDK exposes no BouncyCastle type).</summary>
    public static bool FromSubjectPublicKeyInfo(CurveKind curve, byte[] subjectPublicKeyInfo, byte[] digest, MpcSignature signature) =>
        FromSubjectPublicKeyInfo(curve, subjectPublicKeyInfo, digest, signature.ToEcdsaSignature());

    public static bool BouncyCastle(CurveKind curve, ECPoint publicKey, byte[] digest, EcdsaSignature signature)
    {
        var signer = new ECDsaSigner();
        signer.Init(false, new ECPublicKeyParameters(publicKey, EcCurve.Get(curve).DomainParameters));
        return signer.VerifySignature(digest, signature.R, signature.S);
    }

    /// <summary>openssl dgst -sha256|-sha384 -verify pub.pem -signature sig.der doc.</summary>
    public static (bool Verified, string Output) OpenSsl(CurveKind curve, ECPoint publicKey, byte[] document, EcdsaSignature signature)
    {
        using var dir = new TempDirectory("mpc-openssl-");
        string pem = dir.File("pub.pem"), doc = dir.File("doc.bin"), sig = dir.File("sig.der");
        File.WriteAllText(pem, PublicKeyEncoding.ToPem(EcCurve.Get(curve), publicKey));
        File.WriteAllBytes(doc, document);
        File.WriteAllBytes(sig, signature.ToDer());
        string digestName = curve == CurveKind.P384 ? "-sha384" : "-sha256";
        ProcessResult result = ProcessRunner.OpenSsl("dgst", digestName, "-verify", pem, "-signature", sig, doc);
        string output = result.Stdout + result.Stderr;
        return (result.ExitCode == 0 && output.Contains("Verified OK", StringComparison.Ordinal), output.Trim());
    }
}
