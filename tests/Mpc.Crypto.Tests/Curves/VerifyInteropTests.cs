using System.Security.Cryptography;
using Mpc.Crypto.Curves;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Mpc.Crypto.Tests.Curves;

/// <summary><see cref="EcCurve.Verify"/> against independent ECDSA implementations: .NET (OpenSSL) and BouncyCastle.</summary>
public sealed class VerifyInteropTests
{
    [Theory]
    [InlineData(CurveKind.P256, 32)]
    [InlineData(CurveKind.P256, 48)]
    [InlineData(CurveKind.P256, 64)]
    [InlineData(CurveKind.P384, 32)]
    [InlineData(CurveKind.P384, 48)]
    [InlineData(CurveKind.P384, 64)]
    public void Accepts_signatures_from_dotnet_ECDsa(CurveKind kind, int digestLength)
    {
        EcCurve curve = EcCurve.Get(kind);
        using ECDsa ecdsa = ECDsa.Create(kind == CurveKind.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384);
        ECPoint publicKey = ImportPublicKey(curve, ecdsa);
        for (int i = 0; i < 8; i++)
        {
            byte[] digest = RandomNumberGenerator.GetBytes(digestLength);
            byte[] p1363 = ecdsa.SignHash(digest);
            BigInteger r = new(1, p1363, 0, curve.ScalarLength);
            BigInteger s = new(1, p1363, curve.ScalarLength, curve.ScalarLength);

            Assert.True(curve.Verify(publicKey, Digest.Parse(digest), r, s), "a valid .NET signature must verify");
            Assert.True(curve.Verify(publicKey, Digest.Parse(digest), r, curve.Order.Subtract(s)), "(r, q - s) is valid too");
            Assert.False(curve.Verify(publicKey, Digest.Parse(Flip(digest, i)), r, s), "a changed digest must not verify");
            Assert.False(curve.Verify(publicKey, Digest.Parse(digest), r, s.Add(BigInteger.One)), "a changed s must not verify");
            Assert.False(curve.Verify(publicKey, Digest.Parse(digest), r.Add(BigInteger.One), s), "a changed r must not verify");
            Assert.False(curve.Verify(curve.MultiplyBase(curve.RandomScalar()), Digest.Parse(digest), r, s), "another key must not verify");
        }
    }

    [Fact]
    public void Accepts_signatures_from_BouncyCastle_on_secp256k1_and_rejects_alterations()
    {
        EcCurve curve = EcCurve.Get(CurveKind.Secp256k1);
        BigInteger d = curve.RandomScalar();
        ECPoint publicKey = curve.MultiplyBase(d);
        var signer = new ECDsaSigner();
        signer.Init(true, new ParametersWithRandom(new ECPrivateKeyParameters(d, curve.DomainParameters), new SecureRandom()));
        for (int i = 0; i < 8; i++)
        {
            byte[] digest = RandomNumberGenerator.GetBytes(32);
            BigInteger[] rs = signer.GenerateSignature(digest);

            Assert.True(curve.Verify(publicKey, Digest.Parse(digest), rs[0], rs[1]));
            Assert.False(curve.Verify(publicKey, Digest.Parse(Flip(digest, i)), rs[0], rs[1]));
            Assert.False(curve.Verify(publicKey, Digest.Parse(digest), rs[1], rs[0]));
        }
    }

    [Theory]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public void Agrees_with_BouncyCastle_verification_on_our_own_signatures(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        BigInteger d = curve.RandomScalar();
        ECPoint publicKey = curve.MultiplyBase(d);
        var verifier = new ECDsaSigner();
        verifier.Init(false, new ECPublicKeyParameters(publicKey, curve.DomainParameters));
        byte[] digest = RandomNumberGenerator.GetBytes(curve.ScalarLength);

        EcdsaSignature signature = CurveTestData.SignWithNonce(curve, d, curve.RandomScalar(), digest);

        Assert.True(verifier.VerifySignature(digest, signature.R, signature.S));
        Assert.True(curve.Verify(publicKey, Digest.Parse(digest), signature.R, signature.S));
    }

    [Theory]
    [InlineData(CurveKind.Secp256k1)]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public void Refuses_r_or_s_outside_one_to_q_minus_one(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        BigInteger d = curve.RandomScalar();
        ECPoint publicKey = curve.MultiplyBase(d);
        byte[] digest = RandomNumberGenerator.GetBytes(32);
        EcdsaSignature good = CurveTestData.SignWithNonce(curve, d, curve.RandomScalar(), digest);
        Assert.True(curve.Verify(publicKey, Digest.Parse(digest), good.R, good.S));

        Assert.False(curve.Verify(publicKey, Digest.Parse(digest), BigInteger.Zero, good.S));
        Assert.False(curve.Verify(publicKey, Digest.Parse(digest), good.R, BigInteger.Zero));
        Assert.False(curve.Verify(publicKey, Digest.Parse(digest), good.R.Add(curve.Order), good.S));
        Assert.False(curve.Verify(publicKey, Digest.Parse(digest), good.R, good.S.Add(curve.Order)));
        Assert.False(curve.Verify(publicKey, Digest.Parse(digest), good.R.Negate(), good.S));
        Assert.False(curve.Verify(publicKey, Digest.Parse(digest), curve.Order, good.S));
    }

    [Theory]
    [InlineData(CurveKind.P256)]
    [InlineData(CurveKind.P384)]
    public void ToP1363_and_ToDer_are_accepted_by_dotnet_ECDsa(CurveKind kind)
    {
        EcCurve curve = EcCurve.Get(kind);
        using ECDsa ecdsa = ECDsa.Create(kind == CurveKind.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384);
        BigInteger d = new(1, ecdsa.ExportParameters(includePrivateParameters: true).D);
        for (int i = 0; i < 8; i++)
        {
            byte[] digest = RandomNumberGenerator.GetBytes(48);
            EcdsaSignature signature = CurveTestData.SignWithNonce(curve, d, curve.RandomScalar(), digest);

            Assert.True(ecdsa.VerifyHash(digest, signature.ToP1363(curve.ScalarLength)));
            Assert.True(ecdsa.VerifyHash(digest, signature.ToDer(), DSASignatureFormat.Rfc3279DerSequence));
            Assert.False(ecdsa.VerifyHash(Flip(digest, i), signature.ToP1363(curve.ScalarLength)));
        }
    }

    private static ECPoint ImportPublicKey(EcCurve curve, ECDsa ecdsa)
    {
        ECParameters parameters = ecdsa.ExportParameters(includePrivateParameters: false);
        byte prefix = (byte)(0x02 | (parameters.Q.Y![^1] & 1));
        ECPoint point = curve.DecodePoint([prefix, .. parameters.Q.X!], "public key");
        Assert.Equal(new BigInteger(1, parameters.Q.Y), point.AffineYCoord.ToBigInteger());
        return point;
    }

    private static byte[] Flip(byte[] digest, int index)
    {
        byte[] copy = (byte[])digest.Clone();
        copy[index % copy.Length] ^= 0x01;
        return copy;
    }
}
