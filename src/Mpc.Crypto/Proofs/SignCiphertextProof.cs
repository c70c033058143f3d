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
    private const string Purpose = "sign-ciphertext/Πaff-g";

    /// <summary>Longest SEC1 compressed point any supported curve produces (P-384: 49 bytes).</summary>
    private const int MaxPointLength = 1 + 48;

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
        return EncryptAndProveUnchecked(
            curve, key, verifierParameters, encryptedShare, r2, x1Point, x2Point, alpha, beta, randomness, context, binding, out proof);
    }

    /// <summary>The prover without the witness range checks: tests use it to build the out-of-range proofs the verifier must refuse.</summary>
    internal static BigInteger EncryptAndProveUnchecked(
        EcCurve curve, PaillierPublicKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare,
        ECPoint r2, ECPoint x1Point, ECPoint x2Point, BigInteger alpha, BigInteger beta,
        SignCiphertextRandomness randomness, ProofContext context, ReadOnlySpan<byte> binding, out SignCiphertextProof proof)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(verifierParameters);
        ArgumentNullException.ThrowIfNull(encryptedShare);
        ArgumentNullException.ThrowIfNull(r2);
        ArgumentNullException.ThrowIfNull(x1Point);
        ArgumentNullException.ThrowIfNull(x2Point);
        ArgumentNullException.ThrowIfNull(alpha);
        ArgumentNullException.ThrowIfNull(beta);
        ArgumentNullException.ThrowIfNull(randomness);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Curve != curve.Kind || context.Prover != PartyRole.Client)
        {
            throw new ArgumentException("The c3 proof is the client's, on the context's curve.", nameof(context));
        }
        curve.ValidatePoint(r2, "R2");
        curve.ValidatePoint(x1Point, "X1");
        RequireValidOrIdentity(curve, x2Point, "X2");
        SignCiphertextRandomness.Secrets secrets = randomness.Consume(curve, key, encryptedShare, verifierParameters);

        IBigNumBackend backend = key.Backend;
        BigInteger n = key.N, nSquared = key.NSquared;
        BigInteger nHat = verifierParameters.N, s = verifierParameters.S;
        BigInteger c3 = backend.ModMultiply(
            backend.ModMultiply(backend.ModPowSigned(encryptedShare, alpha, nSquared), key.GPow(beta), nSquared),
            secrets.RhoPowN,
            nSquared);

        byte[] bx = curve.EncodePoint(curve.MultiplySecret(r2, secrets.A));
        byte[] by = curve.EncodePoint(curve.MultiplySecret(r2, secrets.B));
        BigInteger bigS = backend.ModMultiply(backend.ModPowSigned(s, alpha, nHat), secrets.TPowM, nHat);
        BigInteger bigT = backend.ModMultiply(backend.ModPowSigned(s, beta, nHat), secrets.TPowMu, nHat);

        BigInteger e = Challenge(
            curve, n, encryptedShare, c3, r2, x1Point, x2Point, verifierParameters, binding,
            secrets.CommitmentA, bx, by, secrets.E, secrets.F, bigS, bigT, context);
        proof = new SignCiphertextProof(
            secrets.CommitmentA, bx, by, secrets.E, secrets.F, bigS, bigT,
            z1: secrets.A.Add(e.Multiply(alpha)),
            z2: secrets.B.Add(e.Multiply(beta)),
            z3: secrets.Gamma.Add(e.Multiply(secrets.M)),
            z4: secrets.Delta.Add(e.Multiply(secrets.Mu)),
            w: backend.ModMultiply(secrets.RTilde, backend.ModPow(secrets.Rho, e, n), n));
        return c3;
    }

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
        VerifyWithKey(curve, key, verifierParameters, encryptedShare, shareOrNull: null, c3, r2, x1Point, x2Point, context, binding);
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
        VerifyWithKey(curve, key, verifierParameters, encryptedShare, serverShare, c3, r2, x1Point, x2Point, context, binding);
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
        VerifyWithKey(curve, key, verifierParameters, encryptedShare, serverShare, c3, r2, x1Point, x2Point, context, binding);
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
        RingPedersenParameters parameters = verifierSecret.Parameters;
        RequireOwnModulus(key, parameters);
        if (!verifierSecret.P.Equals(key.P))
        {
            throw new ArgumentException("The ring-Pedersen secret is not the one derived from this Paillier key.", nameof(verifierSecret));
        }
        VerifyWithTrapdoor(curve, key, parameters, parameters.T, verifierSecret.Lambda, encryptedShare, serverShare, c3, r2, x1Point, x2Point, context, binding);
    }

    private void VerifyWithKey(
        EcCurve curve, PaillierPrivateKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare, BigInteger? shareOrNull,
        BigInteger c3, ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, ReadOnlySpan<byte> binding)
    {
        ArgumentNullException.ThrowIfNull(verifierParameters);
        RequireOwnModulus(key, verifierParameters);
        (BigInteger t, BigInteger lambda) = RingPedersenSecret.DeriveTrapdoor(key);
        if (!t.Equals(verifierParameters.T))
        {
            throw new ArgumentException("The ring-Pedersen parameters are not the ones derived from this Paillier key.", nameof(verifierParameters));
        }
        VerifyWithTrapdoor(curve, key, verifierParameters, t, lambda, encryptedShare, shareOrNull, c3, r2, x1Point, x2Point, context, binding);
    }

    private static void RequireOwnModulus(PaillierPrivateKey key, RingPedersenParameters verifierParameters)
    {
        if (!verifierParameters.N.Equals(key.PublicKey.N))
        {
            throw new ArgumentException("The server's c3 proof parameters live over its own Paillier modulus.", nameof(verifierParameters));
        }
    }

    /// <summary>
    /// The check itself, with the verifier's trapdoor (t, λ with s = t^λ) already at hand: a server that keeps its
    /// <see cref="RingPedersenSecret"/> per loaded key passes it here instead of deriving it again for every signature.
    /// </summary>
    private void VerifyWithTrapdoor(
        EcCurve curve, PaillierPrivateKey key, RingPedersenParameters verifierParameters, BigInteger t, BigInteger lambda,
        BigInteger encryptedShare, BigInteger? shareOrNull, BigInteger c3, ECPoint r2, ECPoint x1Point, ECPoint x2Point,
        ProofContext context, ReadOnlySpan<byte> binding)
    {
        PaillierPublicKey publicKey = key.PublicKey;
        var modP = new OnePrimeArithmetic(key);
        var checks = new Checks(curve, publicKey, verifierParameters, encryptedShare, c3, r2, x1Point, x2Point, context, key.IsUnit);
        // t is derived (τ², a unit) and s enters only the transcript here, so the parameters' own gcd checks are skipped.
        BigInteger e = checks.Prepare(this, binding, validateParameters: false);
        BigInteger n = publicKey.N;
        BigInteger x1 = shareOrNull ?? key.Decrypt(encryptedShare);

        // Every equation is checked modulo ONE prime p of N (mod p² for the Paillier one): all its values are public, so
        // one that holds mod p but not mod N gives its prover gcd(lhs − rhs, N) = p (docs/protocol.md, "one prime").
        // Paillier, mod p²: u = C^z1·(1+N)^z2·w^N·(A·D^e)⁻¹ is 1 exactly when u ≡ 1 (mod p) and Dec_p(u) = 0, and
        // Dec_p(C^z1·(1+N)^z2·w^N) = z1·x1 + z2 (w^N has plaintext 0), so: Y = A·D^e with Dec(Y) ≡ z1·x1 + z2 and
        // Y ≡ C^z1·w^N (mod p) ((1+N) ≡ 1 mod p). One exponentiation mod p² (Y^(p−1)) instead of a decryption.
        (BigInteger yPlaintext, BigInteger yModP) = key.DecryptProductModP(A, c3, e);
        (BigInteger cPower, BigInteger wPower) = modP.PowPair(encryptedShare, Z1, W, n);
        if (!yModP.Equals(modP.Multiply(cPower, wPower)) || !yPlaintext.Equals(modP.Reduce(Z1.Multiply(x1).Add(Z2).Mod(n))))
        {
            throw Error.ProofFailed(Name, "Paillier equality C^z1·(1+N)^z2·w^N ≡ A·D^e");
        }
        checks.Group(this, e);
        // Ring-Pedersen mod p with s = t^λ: s^z·t^z' = t^(λz+z'); both equations' powers of t in one call; S^e and T^e with
        // the 128-bit e as it is (public), not padded to p's length.
        (BigInteger first, BigInteger second) = modP.PowPair(t, lambda.Multiply(Z1).Add(Z3), t, lambda.Multiply(Z2).Add(Z4));
        (BigInteger sPower, BigInteger tPower) = modP.PowPairPublicExponents(S, e, T, e);
        if (!first.Equals(modP.Multiply(modP.Reduce(E), sPower)))
        {
            throw Error.ProofFailed(Name, "ring-Pedersen equality s^z1·t^z3 ≡ E·S^e");
        }
        if (!second.Equals(modP.Multiply(modP.Reduce(F), tPower)))
        {
            throw Error.ProofFailed(Name, "ring-Pedersen equality s^z2·t^z4 ≡ F·T^e");
        }
    }

    /// <summary>
    /// The same check with public values only (no factorisation): several times slower than the server's one-prime check. For tests,
    /// benchmarks and a client that wants to check its own proof; any verifier parameters (N̂, s, t) work.
    /// </summary>
    public void Verify(
        EcCurve curve, PaillierPublicKey key, RingPedersenParameters verifierParameters, BigInteger encryptedShare, BigInteger c3,
        ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, ReadOnlySpan<byte> binding)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(verifierParameters);
        BigInteger n = key.N;
        var checks = new Checks(curve, key, verifierParameters, encryptedShare, c3, r2, x1Point, x2Point, context,
            value => value.Gcd(n).Equals(BigInteger.One));
        BigInteger e = checks.Prepare(this, binding, validateParameters: true);
        IBigNumBackend backend = key.Backend;
        BigInteger nSquared = key.NSquared, nHat = verifierParameters.N;
        BigInteger left = backend.ModMultiply(
            backend.ModMultiply(backend.ModPowSigned(encryptedShare, Z1, nSquared), key.GPow(Z2), nSquared),
            backend.ModPow(W, n, nSquared),
            nSquared);
        BigInteger right = backend.ModMultiply(A, backend.ModPow(c3, e, nSquared), nSquared);
        if (!left.Equals(right))
        {
            throw Error.ProofFailed(Name, "Paillier equality C^z1·(1+N)^z2·w^N ≡ A·D^e");
        }
        checks.Group(this, e);
        BigInteger s = verifierParameters.S, t = verifierParameters.T;
        if (!SignCiphertextRandomness.Commit(backend, s, Z1, t, Z3, nHat).Equals(backend.ModMultiply(E, backend.ModPow(S, e, nHat), nHat)))
        {
            throw Error.ProofFailed(Name, "ring-Pedersen equality s^z1·t^z3 ≡ E·S^e");
        }
        if (!SignCiphertextRandomness.Commit(backend, s, Z2, t, Z4, nHat).Equals(backend.ModMultiply(F, backend.ModPow(T, e, nHat), nHat)))
        {
            throw Error.ProofFailed(Name, "ring-Pedersen equality s^z2·t^z4 ≡ F·T^e");
        }
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

    private static void RequireValidOrIdentity(EcCurve curve, ECPoint point, string field)
    {
        // X2 = m'·G is the identity only for a digest ≡ 0 (mod q); the statement still holds (β ≡ 0), so it is allowed.
        if (!point.IsInfinity)
        {
            curve.ValidatePoint(point, field);
        }
        else if (!point.Curve.Equals(curve.G.Curve))
        {
            throw new MpcProtocolException(MpcErrorCode.InvalidPoint, $"{field} is not a {curve.Name} point.");
        }
    }

    private static BigInteger Challenge(
        EcCurve curve, BigInteger n, BigInteger c, BigInteger d, ECPoint r2, ECPoint x1, ECPoint x2,
        RingPedersenParameters parameters, ReadOnlySpan<byte> binding,
        BigInteger a, ReadOnlySpan<byte> bx, ReadOnlySpan<byte> by, BigInteger e, BigInteger f, BigInteger s, BigInteger t,
        ProofContext context) =>
        Transcript.Start(Purpose, context)
            .Append("Πaff-g/N", n)
            .Append("Πaff-g/C", c)
            .Append("Πaff-g/D", d)
            .Append("Πaff-g/R2", r2)
            .Append("Πaff-g/X1", x1)
            .Append("Πaff-g/X2", x2)
            .Append("Πaff-g/N̂", parameters.N)
            .Append("Πaff-g/s", parameters.S)
            .Append("Πaff-g/t", parameters.T)
            .Append("Πaff-g/binding", binding)
            .Append("Πaff-g/A", a)
            .Append("Πaff-g/Bx", bx)
            .Append("Πaff-g/By", by)
            .Append("Πaff-g/E", e)
            .Append("Πaff-g/F", f)
            .Append("Πaff-g/S", s)
            .Append("Πaff-g/T", t)
            .ChallengeBelow("Πaff-g/e", BigInteger.One.ShiftLeft(SignCiphertextProofParameters.ChallengeBits));

    /// <summary>What both verifiers check the same way: shapes and ranges, the challenge, the group equations.</summary>
    private sealed class Checks(
        EcCurve curve, PaillierPublicKey key, RingPedersenParameters parameters, BigInteger encryptedShare, BigInteger c3,
        ECPoint r2, ECPoint x1Point, ECPoint x2Point, ProofContext context, Func<BigInteger, bool> isUnitModN)
    {
        private ECPoint? _bx;
        private ECPoint? _by;

        /// <summary>Step 1 (every field's shape and range) and step 2 (the challenge e).</summary>
        public BigInteger Prepare(SignCiphertextProof proof, ReadOnlySpan<byte> binding, bool validateParameters)
        {
            ArgumentNullException.ThrowIfNull(curve);
            ArgumentNullException.ThrowIfNull(key);
            ArgumentNullException.ThrowIfNull(parameters);
            ArgumentNullException.ThrowIfNull(encryptedShare);
            ArgumentNullException.ThrowIfNull(c3);
            ArgumentNullException.ThrowIfNull(r2);
            ArgumentNullException.ThrowIfNull(x1Point);
            ArgumentNullException.ThrowIfNull(x2Point);
            ArgumentNullException.ThrowIfNull(context);
            if (context.Curve != curve.Kind)
            {
                throw Error.ProofFailed(Name, "the context names another curve");
            }
            if (context.Prover != PartyRole.Client)
            {
                throw Error.ProofFailed(Name, "the context does not name the client as prover");
            }
            SignCiphertextProofParameters.RequirePaillierBits(curve, key.BitLength);
            if (validateParameters)
            {
                parameters.Validate();
            }
            curve.ValidatePoint(r2, "R2");
            curve.ValidatePoint(x1Point, "X1");
            RequireValidOrIdentity(curve, x2Point, "X2");
            RequireUnits(proof);
            _bx = DecodePoint(proof._bx, "Bx");
            _by = DecodePoint(proof._by, "By");
            if (proof.Z1.Abs().BitLength > SignCiphertextProofParameters.Z1Bits(curve))
            {
                throw Error.ProofFailed(Name, "range check: |z1| is not below 2^(A_α+κ+σ+1)");
            }
            if (proof.Z2.Abs().BitLength > SignCiphertextProofParameters.Z2Bits(curve))
            {
                throw Error.ProofFailed(Name, "range check: |z2| is not below 2^(A_β+κ+σ+1)");
            }
            int z3Bits = SignCiphertextProofParameters.Z3Bits(parameters.N.BitLength);
            if (proof.Z3.Abs().BitLength > z3Bits || proof.Z4.Abs().BitLength > z3Bits)
            {
                throw Error.ProofFailed(Name, "z3 or z4 is too large");
            }
            return Challenge(
                curve, key.N, encryptedShare, c3, r2, x1Point, x2Point, parameters, binding,
                proof.A, proof._bx, proof._by, proof.E, proof.F, proof.S, proof.T, context);
        }

        /// <summary>
        /// Step 4: z1·R2 = Bx + e·X1 and z2·R2 = By + e·X2 (scalars mod q; all public). The multiplications go through
        /// <see cref="EcCurve.MultiplySecret"/> only because OpenSSL's is ten times faster than BouncyCastle's.
        /// </summary>
        public void Group(SignCiphertextProof proof, BigInteger e)
        {
            if (!Times(r2, proof.Z1).Equals(_bx!.Add(Times(x1Point, e)).Normalize()))
            {
                throw Error.ProofFailed(Name, "group equality z1·R2 = Bx + e·X1");
            }
            if (!Times(r2, proof.Z2).Equals(_by!.Add(Times(x2Point, e)).Normalize()))
            {
                throw Error.ProofFailed(Name, "group equality z2·R2 = By + e·X2");
            }
        }

        /// <summary>k·P for any integer k (reduced mod q) and a valid point or the identity.</summary>
        private ECPoint Times(ECPoint point, BigInteger k)
        {
            BigInteger reduced = k.Mod(curve.Order);
            return reduced.SignValue == 0 || point.IsInfinity ? curve.G.Curve.Infinity : curve.MultiplySecret(point, reduced);
        }

        private ECPoint DecodePoint(byte[] encoded, string field)
        {
            try
            {
                return curve.DecodePoint(encoded, $"{Name} {field}");
            }
            catch (MpcProtocolException)
            {
                throw Error.ProofFailed(Name, $"{field} is not a valid non-identity point");
            }
        }

        /// <summary>
        /// c_key, c3, A ∈ Z*_{N²} and E, F, S, T ∈ Z*_N̂, w ∈ Z*_N: each in range, and one gcd for all of them (a product
        /// of residues is a unit exactly when each is); only a failure looks at them one by one, to name the culprit.
        /// </summary>
        private void RequireUnits(SignCiphertextProof proof)
        {
            BigInteger n = key.N, nSquared = key.NSquared, nHat = parameters.N;
            (BigInteger Value, BigInteger Bound, string Failure)[] paillier =
            [
                (encryptedShare, nSquared, "c_key is not in Z*_{N²}"),
                (c3, nSquared, "c3 is not in Z*_{N²}"),
                (proof.A, nSquared, "A is not in Z*_{N²}"),
                (proof.W, n, "w is not a unit in [1, N)"),
            ];
            (BigInteger Value, BigInteger Bound, string Failure)[] ringPedersen =
            [
                (proof.E, nHat, "E is not a unit in [1, N̂)"),
                (proof.F, nHat, "F is not a unit in [1, N̂)"),
                (proof.S, nHat, "S is not a unit in [1, N̂)"),
                (proof.T, nHat, "T is not a unit in [1, N̂)"),
            ];
            foreach ((BigInteger value, BigInteger bound, string failure) in paillier.Concat(ringPedersen))
            {
                if (value.SignValue <= 0 || value.CompareTo(bound) >= 0)
                {
                    throw Error.ProofFailed(Name, failure);
                }
            }
            BigInteger paillierProduct = Product(paillier, n);
            BigInteger ringPedersenProduct = Product(ringPedersen, nHat);
            bool allUnits = nHat.Equals(n)
                ? isUnitModN(key.Backend.ModMultiply(paillierProduct, ringPedersenProduct, n))
                : isUnitModN(paillierProduct) && ringPedersenProduct.Gcd(nHat).Equals(BigInteger.One);
            if (allUnits)
            {
                return;
            }
            foreach ((BigInteger value, _, string failure) in paillier)
            {
                if (!value.Gcd(n).Equals(BigInteger.One))
                {
                    throw Error.ProofFailed(Name, failure);
                }
            }
            foreach ((BigInteger value, _, string failure) in ringPedersen)
            {
                if (!value.Gcd(nHat).Equals(BigInteger.One))
                {
                    throw Error.ProofFailed(Name, failure);
                }
            }
            throw new InvalidOperationException("A product of units was not a unit.");
        }

        private BigInteger Product((BigInteger Value, BigInteger Bound, string Failure)[] values, BigInteger modulus)
        {
            BigInteger product = BigInteger.One;
            foreach ((BigInteger value, _, _) in values)
            {
                product = key.Backend.ModMultiply(product, value, modulus);
            }
            return product;
        }
    }
}
