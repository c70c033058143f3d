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
/// The server's claims about a fresh Paillier key and c_key = Enc(x1): the modulus N, c_key, the three
/// proofs (Paillier–Blum, no small factor, c_key encrypts log_G(Q1) in range), and the server's own
/// ring-Pedersen parameters (s, t) over N with their Πprm proof, against which the client later proves every c3.
/// Key generation and every refresh end with exactly this, so it is made and checked in one place.
/// </summary>
public sealed record EncryptedShareSetup(
    BigInteger PaillierModulus,
    BigInteger EncryptedShare,
    PaillierBlumModulusProof ModulusProof,
    NoSmallFactorProof NoSmallFactorProof,
    EncryptedDlogProof EncryptedShareProof,
    BigInteger RingPedersenS,
    BigInteger RingPedersenT,
    RingPedersenProof RingPedersenProof)
{
    /// <summary>The server's ring-Pedersen parameters (N̂ = N, s, t) as sent; trusted only after <see cref="Verify"/>.</summary>
    public RingPedersenParameters ServerRingPedersen => new(PaillierModulus, RingPedersenS, RingPedersenT);

    /// <summary>
    /// Server side: encrypts <paramref name="x1"/> under the prepared key and proves everything the client checks. The
    /// server's ring-Pedersen parameters come from the key's secret (prepared by the pool, or derived here); the new
    /// <see cref="ServerKeyShare"/> keeps them (and disposes them). The pool's Πprm commitments, if any, are used up here.
    /// </summary>
    internal static EncryptedShareSetup Create(
        EcCurve curve, PreparedPaillierKey prepared, BigInteger x1, RingPedersenParameters clientParameters, ProofContext serverContext,
        out RingPedersenSecret serverRingPedersen)
    {
        PaillierPrivateKey paillier = prepared.Key;
        // The c3 proof's no-wrap argument needs this size; a smaller key must never carry a share.
        RequireLargeEnough(curve, paillier.PublicKey.BitLength);
        serverRingPedersen = prepared.RingPedersen ?? RingPedersenSecret.DeriveFromPaillier(paillier);
        BigInteger nonce = paillier.PublicKey.RandomUnit();
        BigInteger encryptedShare = paillier.EncryptWithNonce(x1, nonce);
        RingPedersenParameters ringPedersen = serverRingPedersen.Parameters;
        // Πfac and Πlog* are sequential work modulo the client's N̂ (a third of the server's proving); Πmod spreads
        // over the cores by itself but not evenly to the end. Run beside it, the three finish about a quarter sooner
        // while the client waits for this reply (docs/benchmarks.md, "The CLI compiled to native code").
        Task<NoSmallFactorProof> noSmallFactor = Task.Run(() => NoSmallFactorProof.Prove(paillier, clientParameters, serverContext));
        Task<EncryptedDlogProof> encryptedDlog = Task.Run(() => EncryptedDlogProof.Prove(curve, paillier, encryptedShare, x1, nonce, clientParameters, serverContext));
        PaillierBlumModulusProof modulus;
        RingPedersenProof ringPedersenProof;
        try
        {
            modulus = PaillierBlumModulusProof.Prove(paillier, serverContext);
            ringPedersenProof = RingPedersenProof.Prove(serverRingPedersen, serverContext, prepared.Commitments);
        }
        catch
        {
            // The first failure is the one reported; the other proofs' outcomes no longer matter.
            Abandon(noSmallFactor);
            Abandon(encryptedDlog);
            throw;
        }
        return new EncryptedShareSetup(
            paillier.PublicKey.N,
            encryptedShare,
            modulus,
            noSmallFactor.GetAwaiter().GetResult(),
            encryptedDlog.GetAwaiter().GetResult(),
            ringPedersen.S,
            ringPedersen.T,
            ringPedersenProof);
    }

    /// <summary>
    /// Client side (<paramref name="clientRingPedersen"/> the device's own parameters with their trapdoor): the modulus is large enough for the ranges, is a Paillier–Blum modulus without small
    /// factors, c_key is a valid ciphertext of log_G(<paramref name="q1"/>) in range, and the server's (s, t)
    /// over N are well formed (s ∈ ⟨t⟩, which keeps the client's c3 proofs hiding). Returns the checked key;
    /// <see cref="ServerRingPedersen"/> is then checked too.
    /// </summary>
    internal PaillierPublicKey Verify(EcCurve curve, ECPoint q1, RingPedersenSecret clientRingPedersen, ProofContext serverContext, IBigNumBackend backend)
    {
        RingPedersenParameters clientParameters = clientRingPedersen.Parameters;
        var paillier = new PaillierPublicKey(PaillierModulus, backend);
        RequireLargeEnough(curve, paillier.BitLength);
        RingPedersenParameters serverRingPedersen = ServerRingPedersen;
        // Πprm (128 exponentiations mod N) is the heaviest check and independent of the others: run it beside them.
        // The range checks of (s, t) run inside it, so a refusal of the modulus always wins over one of (s, t): a
        // swapped N is reported by its proofs whichever of the two numbers happens to be larger.
        Task ringPedersenCheck = Task.Run(() =>
        {
            serverRingPedersen.Validate();
            RingPedersenProof.Verify(serverRingPedersen, serverContext, backend);
        });
        try
        {
            // Πfac first: the batched check inside Πmod.Verify is sound only for a modulus without small factors
            // (docs/protocol.md, "Batch verification of Πmod").
            // The client holds the trapdoor of its own parameters: the ring-Pedersen equalities of Πfac and Πlog* are
            // checked modulo one of its primes (docs/protocol.md, "The device checks … modulo one of its primes").
            NoSmallFactorProof.Verify(paillier, clientParameters, serverContext, clientRingPedersen);
            ModulusProof.Verify(paillier, serverContext);
            paillier.RequireCiphertext(EncryptedShare, "c_key");
            EncryptedShareProof.Verify(curve, paillier, EncryptedShare, q1, clientParameters, serverContext, clientRingPedersen);
        }
        catch
        {
            // The first refusal is the one reported; the other check's outcome no longer matters.
            Abandon(ringPedersenCheck);
            throw;
        }
        ringPedersenCheck.GetAwaiter().GetResult();
        return paillier;
    }

    internal void WriteTo(WireWriter writer)
    {
        writer.WriteBigInteger(PaillierModulus).WriteBigInteger(EncryptedShare);
        ModulusProof.WriteTo(writer);
        NoSmallFactorProof.WriteTo(writer);
        EncryptedShareProof.WriteTo(writer);
        writer.WriteBigInteger(RingPedersenS).WriteBigInteger(RingPedersenT);
        RingPedersenProof.WriteTo(writer);
    }

    internal static EncryptedShareSetup ReadFrom(ref WireReader reader, EcCurve curve)
    {
        BigInteger modulus = reader.ReadBigInteger("Paillier modulus", ProtocolLimits.MaxModulusBits);
        BigInteger encryptedShare = reader.ReadBigInteger("encrypted share", ProtocolLimits.MaxCiphertextBits);
        PaillierBlumModulusProof modulusProof = PaillierBlumModulusProof.ReadFrom(ref reader);
        NoSmallFactorProof noSmallFactorProof = NoSmallFactorProof.ReadFrom(ref reader);
        EncryptedDlogProof encryptedShareProof = EncryptedDlogProof.ReadFrom(ref reader, curve);
        // s, t and every Πprm value live modulo N: nothing longer than N is read.
        int modulusBits = Math.Max(1, modulus.BitLength);
        return new EncryptedShareSetup(
            modulus,
            encryptedShare,
            modulusProof,
            noSmallFactorProof,
            encryptedShareProof,
            reader.ReadBigInteger("ring-Pedersen s", modulusBits),
            reader.ReadBigInteger("ring-Pedersen t", modulusBits),
            RingPedersenProof.ReadFrom(ref reader, modulusBits));
    }

    /// <summary>Lets <paramref name="task"/> finish unawaited: its failure, if any, is observed and dropped.</summary>
    private static void Abandon(Task task) => task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);

    private static void RequireLargeEnough(EcCurve curve, int modulusBits)
    {
        int minimum = RangeParameters.MinimumPaillierBits(curve);
        if (modulusBits < minimum)
        {
            throw new MpcProtocolException(MpcErrorCode.PaillierModulusTooSmall,
                $"Paillier modulus has {modulusBits} bits; {curve.Name} needs at least {minimum}.");
        }
    }
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
