using System.Security.Cryptography;
using Mpc.Client;
using Mpc.Crypto.Curves;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Mpc.Service.Tests.Service;

/// <summary>Verifiers that share no code with the engine: .NET's ECDsa (P-256, P-384), BouncyCastle's ECDsaSigner (secp256k1).</summary>
public static class Verifiers
{
    public static bool Independent(CurveKind curve, byte[] subjectPublicKeyInfo, byte[] digest, EcdsaSignature signature)
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
    public static bool Independent(CurveKind curve, byte[] subjectPublicKeyInfo, byte[] digest, MpcSignature signature) =>
        Independent(curve, subjectPublicKeyInfo, digest, new EcdsaSignature(
            new Org.BouncyCastle.Math.BigInteger(1, signature.R), new Org.BouncyCastle.Math.BigInteger(1, signature.S), signature.RecoveryId));
}
