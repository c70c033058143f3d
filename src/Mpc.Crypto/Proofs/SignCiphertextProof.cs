using Mpc.Crypto.BigNum;
using Mpc.Crypto.Curves;
using Mpc.Crypto.Encoding;
using Mpc.Crypto.Hashing;
using Mpc.Crypto.Paillier;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Mpc.Crypto.Proofs;

/// <summary>
/// The c3 proof, after CGGMP21's Πaff-g (ePrint 2021/060, fig. 15) with both exponents tied to group elements with
/// base R2: the client proves that D = c3 = C^α·(1+N)^β·ρ^N mod N² for C = c_key, with α·R2 = X1 (= r·Q2) and
/// β·R2 = X2 (= m'·G), |α| &lt; 2^(A_α) and |β| &lt; 2^(A_β) up to the slack in <see cref="SignCiphertextProofParameters"/>,
/// against the server's ring-Pedersen parameters over the server's own Paillier modulus. The server checks it before it
/// decrypts anything, so "the signature verifies" no longer depends on x1 (the Lindell17 abort oracle and its threshold
/// probes). Soundness error 2^-128 (one 128-bit challenge), statistical zero knowledge with slack 2^-128.
/// </summary>
public sealed class SignCiphertextProof
{
    public const string Name = "Πaff-g";
    internal const string Purpose = "sign-ciphertext/Πaff-g";

    private readonly byte[] _bx;
    private readonly byte[] _by;

    public SignCiphertextProof(
        BigInteger a, ReadOnlySpan<byte> bx, ReadOnlySpan<byte> by, BigInteger e, BigInteger f, BigInteger s, BigInteger t,
        BigInteger z1, BigInteger z2, BigInteger z3, BigInteger z4, BigInteger w)
    {
        A = a ?? throw new ArgumentNullException(nameof(a));
        _bx = bx.ToArray();
        _by = by.ToArray();
        E = e ?? throw new ArgumentNullException(nameof(e));
        F = f ?? throw new ArgumentNullException(nameof(f));
        S = s ?? throw new ArgumentNullException(nameof(s));
        T = t ?? throw new ArgumentNullException(nameof(t));
        Z1 = z1 ?? throw new ArgumentNullException(nameof(z1));
        Z2 = z2 ?? throw new ArgumentNullException(nameof(z2));
        Z3 = z3 ?? throw new ArgumentNullException(nameof(z3));
        Z4 = z4 ?? throw new ArgumentNullException(nameof(z4));
        W = w ?? throw new ArgumentNullException(nameof(w));
    }

    /// <summary>A = C^a·(1+N)^b·r̃^N mod N².</summary>
    public BigInteger A { get; }

    /// <summary>Bx = a·R2, SEC1 compressed.</summary>
    public ReadOnlyMemory<byte> Bx => _bx;

    /// <summary>By = b·R2, SEC1 compressed.</summary>
    public ReadOnlyMemory<byte> By => _by;

    /// <summary>E = s^a·t^γ mod N̂.</summary>
    public BigInteger E { get; }

    /// <summary>F = s^b·t^δ mod N̂.</summary>
    public BigInteger F { get; }

    /// <summary>S = s^α·t^m mod N̂.</summary>
    public BigInteger S { get; }

    /// <summary>T = s^β·t^μ mod N̂.</summary>
    public BigInteger T { get; }

    /// <summary>z1 = a + e·α: range-checked.</summary>
    public BigInteger Z1 { get; }

    /// <summary>z2 = b + e·β: range-checked.</summary>
    public BigInteger Z2 { get; }

    /// <summary>z3 = γ + e·m.</summary>
    public BigInteger Z3 { get; }

    /// <summary>z4 = δ + e·μ.</summary>
    public BigInteger Z4 { get; }

    /// <summary>w = r̃·ρ^e mod N.</summary>
    public BigInteger W { get; }

    internal byte[] EncodedBx => _bx;

    internal byte[] EncodedBy => _by;

    /// <summary>
    /// Computes c3 = C^α·(1+N)^β·ρ^N mod N² and its proof with precomputed single-use <paramref name="randomness"/>.
    /// <paramref name="x1Point"/> = α·R2 = r·Q2 and <paramref name="x2Point"/> = β·R2 = m'·G are the statement's points;
    /// <paramref name="binding"/> is the protocol's encoding of what else the proof must be bound to (device, digest, share).
    /// </summary>
    public static BigInteger EncryptAndProve(
        EcCurve curve, PaillierPublicKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare,
        ECPoint r2, ECPoint x1Point, ECPoint x2Point, BigInteger alpha, BigInteger beta,
        SignCiphertextRandomness randomness, ProofContext context, ReadOnlySpan<byte> binding, out SignCiphertextProof proof)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(alpha);
        ArgumentNullException.ThrowIfNull(beta);
        if (alpha.Abs().BitLength > SignCiphertextProofParameters.AlphaBits(curve))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), "α is outside the range the c3 proof covers.");
        }
        if (beta.Abs().BitLength > SignCiphertextProofParameters.BetaBits(curve))
        {
            throw new ArgumentOutOfRangeException(nameof(beta), "β is outside the range the c3 proof covers.");
        }
        return SignCiphertextProver.EncryptAndProve(
            curve, key, verifierParameters, encryptedShare, r2, x1Point, x2Point, alpha, beta, randomness, context, binding, out proof);
    }

    /// <summary>The prover without the witness range checks: tests use it to build the out-of-range proofs the verifier must refuse.</summary>
    internal static BigInteger EncryptAndProveUnchecked(
        EcCurve curve, PaillierPublicKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare,
        ECPoint r2, ECPoint x1Point, ECPoint x2Point, BigInteger alpha, BigInteger beta,
        SignCiphertextRandomness randomness, ProofContext context, ReadOnlySpan<byte> binding, out SignCiphertextProof proof) =>
        SignCiphertextProver.EncryptAndProve(
            curve, key, verifierParameters, encryptedShare, r2, x1Point, x2Point, alpha, beta, randomness, context, binding, out proof);

    /// <summary>
    /// The server's check, modulo one prime of its own factorisation; throws <see cref="MpcErrorCode.ProofFailed"/>
    /// naming the failed check. <paramref name="verifierParameters"/> must be
    /// <see cref="RingPedersenSecret.DeriveFromPaillier"/> of <paramref name="key"/>. Decrypts c_key once to learn x1;
    /// a server that holds x1 saves that with <see cref="VerifyAndDecrypt"/>. Decrypt c3 only after this returns, and
    /// centred (<see cref="DecryptCentred"/>).
    /// </summary>
    public void Verify(
        EcCurve curve, PaillierPrivateKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare, BigInteger c3,
        ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, ReadOnlySpan<byte> binding)
    {
        ArgumentNullException.ThrowIfNull(key);
        SignCiphertextVerifier.VerifyWithKey(this, curve, key, verifierParameters, encryptedShare, shareOrNull: null, c3, r2, x1Point, x2Point, context, binding);
    }

    /// <summary>
    /// The server's whole step: verifies the proof (as <see cref="Verify(EcCurve, PaillierPrivateKey, RingPedersenParameters, BigInteger, BigInteger, ECPoint, ECPoint, ECPoint, ProofContext, ReadOnlySpan{byte})"/>)
    /// and only then decrypts c3, returning the centred plaintext α·x1 + β. <paramref name="serverShare"/> is x1, the
    /// plaintext of <paramref name="encryptedShare"/> (the server's own stored pair); knowing it spares a decryption.
    /// </summary>
    public BigInteger VerifyAndDecrypt(
        EcCurve curve, PaillierPrivateKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare, BigInteger serverShare,
        BigInteger c3, ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, ReadOnlySpan<byte> binding)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(serverShare);
        SignCiphertextVerifier.VerifyWithKey(this, curve, key, verifierParameters, encryptedShare, serverShare, c3, r2, x1Point, x2Point, context, binding);
        return DecryptCentred(key, c3);
    }

    /// <summary>
    /// The server's check alone, with x1 known (its own stored pair), so c3 is not decrypted here: the caller can
    /// record that a decryption is about to happen (and only for an accepted proof) before it decrypts.
    /// </summary>
    public void VerifyWithShare(
        EcCurve curve, PaillierPrivateKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare, BigInteger serverShare,
        BigInteger c3, ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, ReadOnlySpan<byte> binding)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(serverShare);
        SignCiphertextVerifier.VerifyWithKey(this, curve, key, verifierParameters, encryptedShare, serverShare, c3, r2, x1Point, x2Point, context, binding);
    }

    /// <summary>
    /// <see cref="VerifyWithShare(EcCurve, PaillierPrivateKey, RingPedersenParameters, BigInteger, BigInteger, BigInteger, ECPoint, ECPoint, ECPoint, ProofContext, ReadOnlySpan{byte})"/>
    /// with the verifier's own <see cref="RingPedersenSecret"/> (<see cref="RingPedersenSecret.DeriveFromPaillier"/> of
    /// <paramref name="key"/>, kept per loaded key): its λ spares the derivation on every signature.
    /// </summary>
    public void VerifyWithShare(
        EcCurve curve, PaillierPrivateKey key, RingPedersenSecret verifierSecret, BigInteger encryptedShare, BigInteger serverShare,
        BigInteger c3, ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, ReadOnlySpan<byte> binding)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(verifierSecret);
        ArgumentNullException.ThrowIfNull(serverShare);
        SignCiphertextVerifier.VerifyWithSecret(this, curve, key, verifierSecret, encryptedShare, serverShare, c3, r2, x1Point, x2Point, context, binding);
    }

    /// <summary>
    /// The same check with public values only (no factorisation): several times slower than the server's one-prime check. For tests,
    /// benchmarks and a client that wants to check its own proof; any verifier parameters (N̂, s, t) work.
    /// </summary>
    public void Verify(
        EcCurve curve, PaillierPublicKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare, BigInteger c3,
        ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, ReadOnlySpan<byte> binding)
    {
        SignCiphertextVerifier.VerifyPublic(this, curve, key, verifierParameters, encryptedShare, c3, r2, x1Point, x2Point, context, binding);
    }

    /// <summary>
    /// Dec(c3) as a centred integer in (-N/2, N/2]. An accepted proof bounds |α·x1 + β| below N/2, so this is the exact
    /// integer α·x1 + β and its residue mod q does not depend on how an out-of-honest-range α or β would wrap mod N.
    /// </summary>
    public static BigInteger DecryptCentred(PaillierPrivateKey key, BigInteger c3)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Centre(key.Decrypt(c3), key.PublicKey.N);
    }

    /// <summary>m in [0, N) to its centred representative: m − N when m &gt; N/2.</summary>
    public static BigInteger Centre(BigInteger plaintext, BigInteger n)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(n);
        return plaintext.CompareTo(n.ShiftRight(1)) > 0 ? plaintext.Subtract(n) : plaintext;
    }

    public void WriteTo(WireWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteBigInteger(A).WriteBytes(_bx).WriteBytes(_by)
            .WriteBigInteger(E).WriteBigInteger(F).WriteBigInteger(S).WriteBigInteger(T)
            .WriteBigInteger(Z1).WriteBigInteger(Z2).WriteBigInteger(Z3).WriteBigInteger(Z4).WriteBigInteger(W);
    }

    /// <summary>
    /// Reads a proof for <paramref name="curve"/>: points of exactly the curve's compressed length, z1 and z2 within the
    /// verifier's range bits, every other integer within what a modulus of <paramref name="maxPaillierBits"/> allows.
    /// </summary>
    public static SignCiphertextProof ReadFrom(ref WireReader r, EcCurve curve, int maxPaillierBits = PaillierPublicKey.MaximumModulusBits)
    {
        ArgumentNullException.ThrowIfNull(curve);
        BigInteger a = r.ReadBigInteger("Πaff-g A", 2 * maxPaillierBits);
        byte[] bx = r.ReadByteArray("Πaff-g Bx", exactLength: curve.PointLength);
        byte[] by = r.ReadByteArray("Πaff-g By", exactLength: curve.PointLength);
        BigInteger e = r.ReadBigInteger("Πaff-g E", maxPaillierBits);
        BigInteger f = r.ReadBigInteger("Πaff-g F", maxPaillierBits);
        BigInteger s = r.ReadBigInteger("Πaff-g S", maxPaillierBits);
        BigInteger t = r.ReadBigInteger("Πaff-g T", maxPaillierBits);
        BigInteger z1 = r.ReadBigInteger("Πaff-g z1", SignCiphertextProofParameters.Z1Bits(curve));
        BigInteger z2 = r.ReadBigInteger("Πaff-g z2", SignCiphertextProofParameters.Z2Bits(curve));
        BigInteger z3 = r.ReadBigInteger("Πaff-g z3", SignCiphertextProofParameters.Z3Bits(maxPaillierBits));
        BigInteger z4 = r.ReadBigInteger("Πaff-g z4", SignCiphertextProofParameters.Z3Bits(maxPaillierBits));
        BigInteger w = r.ReadBigInteger("Πaff-g w", maxPaillierBits);
        return new SignCiphertextProof(a, bx, by, e, f, s, t, z1, z2, z3, z4, w);
    }

    public override string ToString() => "SignCiphertextProof";
}
