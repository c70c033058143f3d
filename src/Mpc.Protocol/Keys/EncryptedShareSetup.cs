using Mpc.Crypto;
using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Mpc.Crypto.Proofs;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Protocol.Keys;

/// <summary>
/// The server's claims about a fresh Paillier key and c_key = Enc(x1): the modulus N, c_key, and the three
/// proofs (Paillier–Blum, no small factor, c_key encrypts log_G(Q1) in range). Key generation and every
/// refresh end with exactly this, so it is made and checked in one place.
/// </summary>
public sealed record EncryptedShareSetup(
    BigInteger PaillierModulus,
    BigInteger EncryptedShare,
    PaillierBlumModulusProof ModulusProof,
    NoSmallFactorProof NoSmallFactorProof,
    EncryptedDlogProof EncryptedShareProof)
{
    /// <summary>Server side: encrypts <paramref name="x1"/> under <paramref name="paillier"/> and proves everything the client checks.</summary>
    internal static EncryptedShareSetup Create(EcCurve curve, PaillierPrivateKey paillier, BigInteger x1, RingPedersenParameters clientParameters, ProofContext serverContext)
    {
        BigInteger nonce = paillier.PublicKey.RandomUnit();
        BigInteger encryptedShare = paillier.EncryptWithNonce(x1, nonce);
        return new EncryptedShareSetup(
            paillier.PublicKey.N,
            encryptedShare,
            PaillierBlumModulusProof.Prove(paillier, serverContext),
            NoSmallFactorProof.Prove(paillier, clientParameters, serverContext),
            EncryptedDlogProof.Prove(curve, paillier, encryptedShare, x1, nonce, clientParameters, serverContext));
    }

    /// <summary>
    /// Client side: the modulus is large enough for the ranges, is a Paillier–Blum modulus without small
    /// factors, and c_key is a valid ciphertext of log_G(<paramref name="q1"/>) in range. Returns the checked key.
    /// </summary>
    internal PaillierPublicKey Verify(EcCurve curve, ECPoint q1, RingPedersenParameters clientParameters, ProofContext serverContext, IBigNumBackend backend)
    {
        var paillier = new PaillierPublicKey(PaillierModulus, backend);
        if (paillier.BitLength < RangeParameters.MinimumPaillierBits(curve))
        {
            throw new MpcProtocolException(MpcErrorCode.PaillierModulusTooSmall,
                $"Paillier modulus has {paillier.BitLength} bits; {curve.Name} needs at least {RangeParameters.MinimumPaillierBits(curve)}.");
        }
        ModulusProof.Verify(paillier, serverContext);
        NoSmallFactorProof.Verify(paillier, clientParameters, serverContext);
        paillier.RequireCiphertext(EncryptedShare, "c_key");
        EncryptedShareProof.Verify(curve, paillier, EncryptedShare, q1, clientParameters, serverContext);
        return paillier;
    }

    internal void WriteTo(WireWriter writer)
    {
        writer.WriteBigInteger(PaillierModulus).WriteBigInteger(EncryptedShare);
        ModulusProof.WriteTo(writer);
        NoSmallFactorProof.WriteTo(writer);
        EncryptedShareProof.WriteTo(writer);
    }

    internal static EncryptedShareSetup ReadFrom(ref WireReader reader, EcCurve curve) => new(
        reader.ReadBigInteger("Paillier modulus", ProtocolLimits.MaxModulusBits),
        reader.ReadBigInteger("encrypted share", ProtocolLimits.MaxCiphertextBits),
        PaillierBlumModulusProof.ReadFrom(ref reader),
        NoSmallFactorProof.ReadFrom(ref reader),
        EncryptedDlogProof.ReadFrom(ref reader, curve));
}

/// <summary>
/// A public 16-byte name for one share pair: a hash of the server's Paillier modulus and c_key, which both
/// parties hold and which change with every key generation and refresh. A device names the pair it holds, so
/// the server can refuse a replaced share plainly instead of seeing its signature fail (which would freeze the key).
/// </summary>
public static class ShareIds
{
    public const int Length = 16;

    public static byte[] Of(BigInteger paillierModulus, BigInteger encryptedShare)
    {
        byte[] digest = System.Security.Cryptography.SHA256.HashData(new WireWriter()
            .WriteString("mpc-signer/share-id/v1")
            .WriteBigInteger(paillierModulus)
            .WriteBigInteger(encryptedShare)
            .WrittenSpan);
        return digest[..Length];
    }
}
