using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Tests.Proofs;

/// <summary>
/// One 2048-bit server Paillier key with its derived ring-Pedersen parameters, shared by the c3 proof tests, and a
/// factory for honest signing instances (the values a real client and server would hold at round 4).
/// </summary>
public sealed class SignProofFixture : IDisposable
{
    private readonly Lazy<HonestProof> _honest;

    public SignProofFixture()
    {
        Backend = BigNumBackends.Create(BigNumBackendKind.Auto);
        Key = PaillierPrivateKey.Generate(Backend);
        RingPedersen = RingPedersenSecret.DeriveFromPaillier(Key);
        _honest = new(() => Prove(NewInstance()));
    }

    /// <summary>One honest P-256 instance with its c3 and proof, shared by the adversarial tests (which only read it).</summary>
    public HonestProof Honest => _honest.Value;

    /// <summary>c3 and its proof for <paramref name="instance"/>, with fresh randomness.</summary>
    public HonestProof Prove(SignInstance instance)
    {
        using SignCiphertextRandomness randomness = SignCiphertextRandomness.Create(instance.Curve, PublicKey, instance.EncryptedShare, Parameters);
        BigInteger c3 = SignCiphertextProof.EncryptAndProve(
            instance.Curve, PublicKey, Parameters, instance.EncryptedShare, instance.R2, instance.X1, instance.X2,
            instance.Alpha, instance.Beta, randomness, instance.Context, instance.Binding, out SignCiphertextProof proof);
        return new HonestProof(instance, c3, proof);
    }

    public IBigNumBackend Backend { get; }

    /// <summary>The server's Paillier key.</summary>
    public PaillierPrivateKey Key { get; }

    /// <summary>The server's ring-Pedersen secret over <see cref="Key"/>'s modulus.</summary>
    public RingPedersenSecret RingPedersen { get; }

    public RingPedersenParameters Parameters => RingPedersen.Parameters;

    public PaillierPublicKey PublicKey => Key.PublicKey;

    /// <summary>A fresh honest instance on <paramref name="kind"/>: new shares, nonce, digest and session.</summary>
    public SignInstance NewInstance(CurveKind kind = CurveKind.P256) => SignInstance.Create(this, EcCurve.Get(kind));

    public void Dispose()
    {
        RingPedersen.Dispose();
        Key.Dispose();
    }
}

public sealed record HonestProof(SignInstance Instance, BigInteger C3, SignCiphertextProof Proof);

[CollectionDefinition(Name)]
public sealed class SignProofCollection : ICollectionFixture<SignProofFixture>
{
    public const string Name = "Sign proof";
}

/// <summary>
/// What both parties know when the client sends c3: the server's share x1 and c_key = Enc(x1), the client's x2, k2
/// and R2 = k2·G, the nonce's r and the digest's m'; α = k2⁻¹·r·x2, β = ρ·q + k2⁻¹·m', X1 = r·Q2 and X2 = m'·G.
/// </summary>
public sealed record SignInstance(
    EcCurve Curve,
    BigInteger X1Share,
    BigInteger EncryptedShare,
    ECPoint R2,
    ECPoint X1,
    ECPoint X2,
    BigInteger Alpha,
    BigInteger Beta,
    ProofContext Context,
    byte[] Binding)
{
    public static SignInstance Create(SignProofFixture fixture, EcCurve curve)
    {
        BigInteger q = curve.Order;
        BigInteger x1 = curve.RandomScalar();
        BigInteger encryptedShare = fixture.Key.EncryptWithNonce(x1, fixture.PublicKey.RandomUnit());
        BigInteger x2 = curve.RandomScalar();
        BigInteger k2 = curve.RandomScalar();
        ECPoint r2 = curve.MultiplyBase(k2);
        BigInteger r = curve.RandomScalar();
        byte[] digest = System.Security.Cryptography.RandomNumberGenerator.GetBytes(curve.ScalarLength == 48 ? 48 : 32);
        BigInteger mPrime = curve.DigestToScalar(Digest.Parse(digest));
        BigInteger k2Inverse = k2.ModInverse(q);
        BigInteger alpha = k2Inverse.Multiply(r).Multiply(x2).Mod(q);
        BigInteger mask = new BigInteger(SignCiphertextProofParameters.MaskBits(curve), new Org.BouncyCastle.Security.SecureRandom());
        BigInteger beta = mask.Multiply(q).Add(k2Inverse.Multiply(mPrime).Mod(q));
        ECPoint x1Point = curve.MultiplyBase(r.Multiply(x2).Mod(q));
        ECPoint x2Point = curve.MultiplyBase(mPrime);
        byte[] session = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var context = new ProofContext(session, PartyRole.Client, "key-1", curve.Kind);
        byte[] binding = new Mpc.Crypto.Encoding.WireWriter().WriteString("device-1").WriteBytes(digest).WriteString("share-1").ToArray();
        return new SignInstance(curve, x1, encryptedShare, r2, x1Point, x2Point, alpha, beta, context, binding);
    }

    /// <summary>α·x1 + β: the exact integer an honest c3 encrypts.</summary>
    public BigInteger Plaintext => Alpha.Multiply(X1Share).Add(Beta);

    // Records print their members; keep the test shares out of test logs anyway.
    public override string ToString() => $"SignInstance({Curve.Name})";
}
